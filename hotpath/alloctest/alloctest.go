// Package alloctest counts heap allocations over a whole loop, for the hot
// path's allocation tests.
//
// testing.AllocsPerRun divides the mallocs of its runs by the run count with
// integer division, so 20,000 runs pass with up to 19,999 allocations; a loop
// that allocates once per window (every few hundred ticks) looks free. Count
// returns the total instead, so a test can assert a bound per window or per
// tick over the whole loop. It must never be imported by non-test code (the layout test checks).
package alloctest

import "runtime"

// Count runs f once to warm up, then runs times more with GOMAXPROCS 1 (as
// AllocsPerRun does, so other goroutines' allocations stay out), and returns
// every malloc those runs made — the fewest of three such measurements:
// GOMAXPROCS 1 does not stop another goroutine (the runtime's, the test
// framework's) from running and allocating when the loop is preempted on a
// busy machine (make test once counted 1 allocation over 20 passes that
// allocate nothing). Such a stray shows in one measurement, not in all
// three; an allocation the loop makes every so often shows in each, so a
// loop must run long enough to make it in every measurement.
func Count(runs int, f func()) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f()
	best := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			f()
		}
		runtime.ReadMemStats(&after)
		best = min(best, after.Mallocs-before.Mallocs)
	}
	return best
}
