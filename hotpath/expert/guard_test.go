package expert

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"thunderline/hotpath/window"
)

// fakeExpert is an action head whose behaviour the test sets per call.
type fakeExpert struct {
	name    string
	calls   int
	panicOn func(in *Input) bool
	spin    time.Duration // busy time per call
	scores  [NumActions]float32
	conf    float32
}

func (f *fakeExpert) Name() string { return f.name }
func (f *fakeExpert) Kind() string { return "fake" }
func (f *fakeExpert) InDim() int   { return 0 }
func (f *fakeExpert) OutDim() int  { return 0 }
func (f *fakeExpert) Eval(in *Input, out *Output) {
	f.calls++
	if f.panicOn != nil && f.panicOn(in) {
		out.Scores[0] = 0.9 // a half-written output the guard must reset
		panic("boom at symbol " + string(rune('0'+in.Symbol)))
	}
	if f.spin > 0 {
		// Busy, not asleep: the guard times the call, whatever the expert
		// does with the time.
		start := time.Now()
		for time.Since(start) < f.spin {
		}
	}
	out.Scores, out.Confidence, out.Abstain = f.scores, f.conf, false
}

func TestGuardPanicIsolatesExpert(t *testing.T) {
	ok1 := &fakeExpert{name: "ok1", scores: [3]float32{1, 0, 0}, conf: 0.5}
	bad := &fakeExpert{name: "bad", scores: [3]float32{0, 1, 0}, conf: 0.5,
		panicOn: func(in *Input) bool { return in.Symbol == 3 }}
	ok2 := &fakeExpert{name: "ok2", scores: [3]float32{0, 0, 1}, conf: 0.5}
	layer := []*Guard{NewGuard(ok1, 0), NewGuard(bad, 0), NewGuard(ok2, 0)}

	var outs [3]Output
	run := func(sym uint32) {
		in := &Input{Symbol: sym}
		for i, g := range layer {
			g.Eval(in, &outs[i])
		}
		for i, e := range []*fakeExpert{ok1, ok2} {
			o := outs[i*2]
			if o.Abstain || o.Scores != e.scores {
				t.Fatalf("symbol %d: %s output %+v, want its scores", sym, e.name, o)
			}
		}
	}
	for sym := uint32(0); sym < 3; sym++ {
		run(sym)
		if outs[1].Abstain {
			t.Fatalf("symbol %d: bad expert abstained before panicking", sym)
		}
	}
	run(3) // bad panics
	if !outs[1].Abstain || outs[1].Scores != [3]float32{0, 0, 1} {
		t.Fatalf("after panic: output %+v, want a neutral abstention", outs[1])
	}
	st := layer[1].Stats()
	if st.Panics != 1 || !st.Failed || !strings.Contains(st.LastError, "boom at symbol 3") ||
		!strings.Contains(st.LastStack, "fakeExpert") {
		t.Fatalf("stats after panic: %+v", st)
	}
	callsAtPanic := bad.calls
	for sym := uint32(4); sym < 8; sym++ { // failed: abstains, never called
		run(sym)
		if !outs[1].Abstain {
			t.Fatalf("symbol %d: failed expert did not abstain", sym)
		}
	}
	if bad.calls != callsAtPanic {
		t.Fatalf("failed expert was called %d more times", bad.calls-callsAtPanic)
	}
	layer[1].Restart()
	run(8)
	if outs[1].Abstain || outs[1].Scores != bad.scores {
		t.Fatalf("after restart: %+v", outs[1])
	}
	st = layer[1].Stats()
	want := GuardStats{Calls: 9, Abstains: 5, Skipped: 4, Panics: 1, Restarts: 1}
	if st.Calls != want.Calls || st.Abstains != want.Abstains || st.Skipped != want.Skipped ||
		st.Panics != want.Panics || st.Restarts != want.Restarts || st.Failed {
		t.Fatalf("stats %+v, want counts %+v", st, want)
	}
	if s := layer[0].Stats(); s.Panics != 0 || s.Abstains != 0 || s.Calls != 9 {
		t.Fatalf("healthy expert stats %+v", s)
	}
}

func TestGuardBudget(t *testing.T) {
	slow := &fakeExpert{name: "slow", scores: [3]float32{0, 0, 1}, spin: 3 * time.Millisecond}
	fast := &fakeExpert{name: "fast", scores: [3]float32{0, 0, 1}}
	gs := NewGuard(slow, time.Millisecond)
	gf := NewGuard(fast, time.Second)
	var out Output
	for range 5 {
		gs.Eval(&Input{}, &out)
		gf.Eval(&Input{}, &out)
	}
	s, f := gs.Stats(), gf.Stats()
	if s.OverBudget != 5 || s.Samples != 5 || s.P50 < 3*time.Millisecond || s.Max < s.P99 || s.P99 < s.P50 {
		t.Fatalf("slow stats %+v", s)
	}
	if f.OverBudget != 0 || f.Samples != 5 || f.Budget != time.Second {
		t.Fatalf("fast stats %+v", f)
	}
	if out.Abstain {
		t.Fatal("an over-budget call still returns its output")
	}
	if NewGuard(fast, 0).Budget() != DefaultBudget {
		t.Fatal("default budget")
	}
}

// badOutput returns a fixed, possibly invalid output.
type badOutput struct {
	out    int
	scores [NumActions]float32
	conf   float32
	hidden float32
}

func (b *badOutput) Name() string { return "bad-output" }
func (b *badOutput) Kind() string { return "fake" }
func (b *badOutput) InDim() int   { return 0 }
func (b *badOutput) OutDim() int  { return b.out }
func (b *badOutput) Eval(_ *Input, out *Output) {
	out.Scores, out.Confidence, out.Abstain = b.scores, b.conf, false
	for i := range out.Hidden[:b.out] {
		out.Hidden[i] = b.hidden
	}
}

func TestGuardInvalidOutput(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		name    string
		e       *badOutput
		invalid bool
	}{
		{"valid head", &badOutput{scores: [3]float32{0.2, 0.3, 0.5}, conf: 0.4}, false},
		{"nan score", &badOutput{scores: [3]float32{nan, 0, 1}, conf: 0.4}, true},
		{"sum 2", &badOutput{scores: [3]float32{1, 1, 0}, conf: 0.4}, true},
		{"negative", &badOutput{scores: [3]float32{-0.5, 0.5, 1}, conf: 0.4}, true},
		{"confidence 2", &badOutput{scores: [3]float32{0, 0, 1}, conf: 2}, true},
		{"valid hidden", &badOutput{out: 4, conf: 1, hidden: 3}, false},
		{"inf hidden", &badOutput{out: 4, conf: 1, hidden: float32(math.Inf(1))}, true},
	}
	for _, c := range cases {
		g := NewGuard(c.e, 0)
		out := Output{Hidden: make([]float32, 4)}
		g.Eval(&Input{}, &out)
		st := g.Stats()
		if out.Abstain != c.invalid || (st.Invalid == 1) != c.invalid || (st.Abstains == 1) != c.invalid {
			t.Errorf("%s: abstain %v, stats %+v", c.name, out.Abstain, st)
		}
		if c.invalid && (out.Hidden[0] != 0 || out.Scores != [3]float32{0, 0, 1}) {
			t.Errorf("%s: invalid output not reset: %+v", c.name, out)
		}
	}
}

func TestGuardForce(t *testing.T) {
	e := &fakeExpert{name: "f", scores: [3]float32{1, 0, 0}}
	g := NewGuard(e, 0)
	var out Output
	g.Force(true)
	g.Eval(&Input{}, &out)
	if !out.Abstain || e.calls != 0 || !g.Stats().Forced {
		t.Fatalf("forced: out %+v calls %d", out, e.calls)
	}
	g.Force(false)
	g.Eval(&Input{}, &out)
	if out.Abstain || e.calls != 1 {
		t.Fatalf("unforced: out %+v calls %d", out, e.calls)
	}
}

func TestGuardNoAllocs(t *testing.T) {
	mom, _ := NewMomentum("m", MomentumConfig{})
	mlp, _ := NewMLPSeeded("mlp", 8, 16, 8, 3)
	f := make([]float64, window.NumFeatures)
	f[window.FMid], f[window.FMidReturn], f[window.FRealizedVol] = 100, 0.001, 0.002
	in := &Input{Features: f, Embedding: make([]float32, 8)}
	out := &Output{Hidden: make([]float32, 8)}
	for _, e := range []Expert{mom, mlp} {
		g := NewGuard(e, 0)
		if n := testing.AllocsPerRun(500, func() { g.Eval(in, out) }); n != 0 {
			t.Errorf("guarded %s: %v allocs per call", e.Kind(), n)
		}
		g.Force(true)
		if n := testing.AllocsPerRun(100, func() { g.Eval(in, out) }); n != 0 {
			t.Errorf("forced %s: %v allocs per call", e.Kind(), n)
		}
	}
}

// TestGuardStatsConcurrent reads stats while another goroutine evaluates
// (run under -race).
func TestGuardStatsConcurrent(t *testing.T) {
	mom, _ := NewMomentum("m", MomentumConfig{})
	g := NewGuard(mom, 0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		in := &Input{Features: make([]float64, window.NumFeatures)}
		var out Output
		for range 5000 {
			g.Eval(in, &out)
		}
		close(done)
	}()
	var last uint64
	for {
		s := g.Stats()
		if s.Calls < last {
			t.Fatalf("calls went back: %d < %d", s.Calls, last)
		}
		last = s.Calls
		select {
		case <-done:
			wg.Wait()
			if s := g.Stats(); s.Calls != 5000 || s.Abstains != 5000 || s.Samples != latencySamples {
				t.Fatalf("final stats %+v", s)
			}
			return
		default:
		}
	}
}

// TestGuardEvalTimed: EvalTimed returns the call's own duration (at least the
// expert's busy time; the same figure the guard keeps as its latency sample)
// and 0 for a skipped call, so the decision stage need not time it again.
func TestGuardEvalTimed(t *testing.T) {
	e := &fakeExpert{name: "t", scores: [3]float32{1, 0, 0}, spin: 2 * time.Millisecond}
	g := NewGuard(e, time.Second)
	var out Output
	d := g.EvalTimed(&Input{}, &out)
	if d < 2*time.Millisecond || g.Stats().Max != d {
		t.Fatalf("EvalTimed %v, guard max sample %v", d, g.Stats().Max)
	}
	g.Force(true)
	if d := g.EvalTimed(&Input{}, &out); d != 0 || !out.Abstain {
		t.Fatalf("forced call: %v abstain %v", d, out.Abstain)
	}
}
