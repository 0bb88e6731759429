//go:build !amd64 || race || purego

package ring

import "sync/atomic"

// publish stores v into a with (at least) release ordering. Off amd64 the
// atomic store is already cheap (arm64 compiles it to STLR, a release store);
// race-detector and purego builds use it too, so the detector sees the
// synchronisation.
func publish(a *atomic.Uint64, v uint64) { a.Store(v) }

// fence is not needed here: publish is a sequentially consistent atomic
// store, and Go's atomics are sequentially consistent with each other, so
// Waiter.Wake's load of parked cannot overtake it.
func fence() {}
