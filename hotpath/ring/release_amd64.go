//go:build amd64 && !race && !purego

package ring

import (
	"sync/atomic"
	"unsafe"
)

// publish stores v into a with release ordering: every load and store the
// caller made before it (filling or reading slots) is visible to a goroutine
// that loads v from a with a.Load.
//
// sync/atomic's Store is sequentially consistent, which on amd64 costs an XCHG:
// a full barrier that stalls the writer until it owns the cache line. On the
// ring's hot path the other side has usually just read that line, so every
// Push or Pop would wait for a cross-core round trip (measured: SPSC transfer
// 141 ns per tick with a.Store, 29 ns with this). The ring needs only release
// ordering here, and every amd64 store has it; the assembly function is opaque
// to the compiler, so it cannot move the slot writes after it either.
// Race-detector builds use a.Store (see release_other.go) so the detector
// sees the synchronisation.
func publish(a *atomic.Uint64, v uint64) {
	// atomic.Uint64 is {noCopy; align64; v uint64}: its only data is the word
	// at offset 0 (TestPublish checks the size).
	storeRelease((*uint64)(unsafe.Pointer(a)), v)
}

//go:noescape
func storeRelease(p *uint64, v uint64)

// fence orders every store before it ahead of every load after it (a full
// barrier). publish is a plain store, so a producer that publishes and then
// loads a flag the consumer set (Waiter.Wake reading parked) needs it: without
// it x86 may satisfy the load before the store leaves the store buffer, and a
// consumer that parked in that window sleeps on a ring that is not empty.
//
//go:noescape
func fence()
