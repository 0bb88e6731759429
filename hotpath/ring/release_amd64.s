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
