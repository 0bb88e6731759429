//go:build !race && !purego

#include "textflag.h"

// func storeRelease(p *uint64, v uint64)
//
// A plain MOV: on amd64 (x86-TSO) every store is a release store, so this
// orders all earlier loads and stores before it, as a C++ store with
// memory_order_release would.
TEXT ·storeRelease(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ	p+0(FP), AX
	MOVQ	v+8(FP), BX
	MOVQ	BX, 0(AX)
	RET

// func fence()
//
// A full barrier: a LOCKed read-modify-write of the stack word drains the
// store buffer, so no later load runs before an earlier store is visible
// (x86-TSO lets exactly that reorder, and only that). Cheaper than MFENCE on
// current x86 cores and the same as Linux's smp_mb() on x86-64.
TEXT ·fence(SB), NOSPLIT|NOFRAME, $0-0
	LOCK
	ORQ	$0, 0(SP)
	RET
