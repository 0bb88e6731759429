package expert

import (
	"fmt"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"
)

// DefaultBudget is a Guard's latency budget when none is given.
const DefaultBudget = time.Millisecond

// latencySamples is the size of a Guard's latency reservoir: the p50 and
// p99 of Stats are over the last latencySamples calls.
const latencySamples = 1024

// maxStack bounds the stack trace a Guard keeps after a panic.
const maxStack = 4096

// Guard isolates one expert. It is itself an Expert, meant to be what the
// router calls:
//
//   - a panic in the expert is recovered and counted, its message and stack
//     kept, and the expert is failed: it abstains on every call until
//     Restart (the bolt actor decides when);
//   - every call is timed (time.Since of a monotonic start) against the
//     budget; calls over it are counted, and the last latencySamples
//     latencies are kept in a fixed ring for p50/p99/max;
//   - an output with a NaN or infinite value, a confidence outside [0, 1],
//     or (for an action head) scores that are not a probability
//     distribution, is counted as invalid and replaced by an abstention;
//   - Force(true) makes the expert abstain without being called (seed 004
//     §9, ladder step 6: force abstain for high-latency experts).
//
// Counters are typed atomics: Stats may be called from any goroutine while
// another calls Eval. Eval does not allocate unless the expert panics. The
// clock costs a time.Now and a time.Since per call (about 85 ns together on
// the project machine); a Guard adds about 150-170 ns per call in all (see
// BenchmarkGuard).
type Guard struct {
	inner  Expert
	budget time.Duration
	head   bool
	outDim int

	failed atomic.Bool
	forced atomic.Bool
	inject atomic.Bool // panic once at the next call (fault injection)

	calls      atomic.Uint64
	abstains   atomic.Uint64
	skipped    atomic.Uint64
	panics     atomic.Uint64
	overBudget atomic.Uint64
	invalid    atomic.Uint64
	restarts   atomic.Uint64
	lastError  atomic.Pointer[panicInfo]

	next    atomic.Uint64 // samples written
	samples [latencySamples]atomic.Int64
	_       [64]byte // keep the next Guard's hot counters off this cache line
}

type panicInfo struct {
	msg   string
	stack string
	at    time.Time
}

// NewGuard wraps e with the latency budget (0 means DefaultBudget).
func NewGuard(e Expert, budget time.Duration) *Guard {
	if budget <= 0 {
		budget = DefaultBudget
	}
	return &Guard{inner: e, budget: budget, head: e.OutDim() == 0, outDim: e.OutDim()}
}

func (g *Guard) Name() string { return g.inner.Name() }
func (g *Guard) Kind() string { return g.inner.Kind() }
func (g *Guard) InDim() int   { return g.inner.InDim() }
func (g *Guard) OutDim() int  { return g.inner.OutDim() }

// Unwrap is the guarded expert.
func (g *Guard) Unwrap() Expert { return g.inner }

// Budget is the latency budget per call.
func (g *Guard) Budget() time.Duration { return g.budget }

// Eval calls the expert unless it is failed or forced to abstain.
func (g *Guard) Eval(in *Input, out *Output) { g.EvalTimed(in, out) }

// EvalTimed is Eval that also returns how long the expert's call took (0
// when it was skipped), the figure the guard already measures for its budget
// and latency samples, so a caller need not read the clock around it again.
func (g *Guard) EvalTimed(in *Input, out *Output) time.Duration {
	g.calls.Add(1)
	if g.failed.Load() || g.forced.Load() {
		g.skipped.Add(1)
		g.abstains.Add(1)
		out.SetAbstain()
		return 0
	}
	start := time.Now()
	ok := g.call(in, out)
	d := time.Since(start)
	g.samples[(g.next.Add(1)-1)%latencySamples].Store(int64(d))
	if d > g.budget {
		g.overBudget.Add(1)
	}
	if !ok {
		g.abstains.Add(1)
		return d
	}
	if !out.Abstain && !g.valid(out) {
		g.invalid.Add(1)
		out.SetAbstain()
	}
	if out.Abstain {
		out.SetAbstain() // the neutral output, whatever the expert left
		g.abstains.Add(1)
	}
	return d
}

// call runs the expert, turning a panic into a failed state and an
// abstention. It is a separate function so its defer is open-coded (no
// allocation) and runs once per call.
func (g *Guard) call(in *Input, out *Output) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			g.onPanic(r)
			out.SetAbstain()
			ok = false
		}
	}()
	if g.inject.Load() && g.inject.CompareAndSwap(true, false) {
		panic("injected fault in expert " + g.inner.Name())
	}
	g.inner.Eval(in, out)
	return true
}

// InjectPanic makes the next call panic inside the guard, as a crashing
// model would: fault injection for supervision drills and tests.
func (g *Guard) InjectPanic() { g.inject.Store(true) }

// onPanic is the exceptional path: it may allocate.
func (g *Guard) onPanic(r any) {
	st := debug.Stack()
	if len(st) > maxStack {
		st = st[:maxStack]
	}
	g.lastError.Store(&panicInfo{
		msg:   fmt.Sprintf("expert %q panicked: %v", g.inner.Name(), r),
		stack: string(st),
		at:    time.Now(),
	})
	g.panics.Add(1)
	g.failed.Store(true)
}

// valid checks an output the expert did not mark as an abstention.
func (g *Guard) valid(out *Output) bool {
	c := out.Confidence
	if !finite32(c) || c < 0 || c > 1 {
		return false
	}
	if g.head {
		var sum float32
		for _, p := range out.Scores {
			if !finite32(p) || p < 0 || p > 1 {
				return false
			}
			sum += p
		}
		return sum > 1-1e-3 && sum < 1+1e-3
	}
	if len(out.Hidden) < g.outDim {
		return false
	}
	for _, v := range out.Hidden[:g.outDim] {
		if !finite32(v) {
			return false
		}
	}
	return true
}

// Restart clears the failed state after a panic: the next call runs the
// expert again. Counters are kept.
func (g *Guard) Restart() {
	if g.failed.Swap(false) {
		g.restarts.Add(1)
	}
}

// Force makes the expert abstain on every call without running it (true)
// or lets it run again (false).
func (g *Guard) Force(abstain bool) { g.forced.Store(abstain) }

// Failed reports whether the expert panicked and awaits Restart.
func (g *Guard) Failed() bool { return g.failed.Load() }

// GuardStats is a snapshot of a Guard's counters.
type GuardStats struct {
	Name       string
	Calls      uint64 // Eval calls, including skipped ones
	Abstains   uint64 // calls that returned an abstention, for any reason
	Skipped    uint64 // calls not run because the expert was failed or forced
	Panics     uint64
	OverBudget uint64 // calls slower than Budget
	Invalid    uint64 // outputs replaced by an abstention (NaN, bad scores)
	Restarts   uint64
	Failed     bool // panicked, abstaining until Restart
	Forced     bool
	Budget     time.Duration
	LastError  string // the last panic's message, "" if none
	LastStack  string // its stack, at most 4 KiB
	LastErrAt  time.Time
	// Latency over the last Samples timed calls (at most 1024).
	Samples       int
	P50, P99, Max time.Duration
}

// Stats returns a snapshot. Safe from any goroutine; it allocates (off the
// hot path).
func (g *Guard) Stats() GuardStats {
	s := GuardStats{
		Name:       g.inner.Name(),
		Calls:      g.calls.Load(),
		Abstains:   g.abstains.Load(),
		Skipped:    g.skipped.Load(),
		Panics:     g.panics.Load(),
		OverBudget: g.overBudget.Load(),
		Invalid:    g.invalid.Load(),
		Restarts:   g.restarts.Load(),
		Failed:     g.failed.Load(),
		Forced:     g.forced.Load(),
		Budget:     g.budget,
	}
	if p := g.lastError.Load(); p != nil {
		s.LastError, s.LastStack, s.LastErrAt = p.msg, p.stack, p.at
	}
	n := int(min(g.next.Load(), latencySamples))
	if n == 0 {
		return s
	}
	lat := make([]int64, n)
	for i := range lat {
		lat[i] = g.samples[i].Load()
	}
	slices.Sort(lat)
	s.Samples = n
	s.P50 = time.Duration(lat[(n-1)*50/100])
	s.P99 = time.Duration(lat[(n-1)*99/100])
	s.Max = time.Duration(lat[n-1])
	return s
}

// Pure reports whether e's Eval is a function of its input alone: no state
// kept from one call to the next (scratch buffers aside), no I/O, no clock.
// The built-in heads and MLPs are; a remote expert is not. The decision
// stage's warm-up (decide.Stage.Warm) calls only pure experts, and calls
// them directly, not through their Guard, so no counter moves.
func Pure(e Expert) bool {
	switch e.(type) {
	case *MLP, *Momentum, *MeanReversion, *OrderFlow:
		return true
	}
	return false
}
