package decide

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"thunderline/hotpath/codec/codectest"
	"thunderline/hotpath/expert"
	"thunderline/hotpath/record"
	"thunderline/hotpath/router"
	"thunderline/hotpath/window"
)

// panicky panics on every call after the first n.
type panicky struct {
	n, calls int
}

func (p *panicky) Name() string { return "panicky" }
func (p *panicky) Kind() string { return "test" }
func (p *panicky) InDim() int   { return 0 }
func (p *panicky) OutDim() int  { return 0 }
func (p *panicky) Eval(in *expert.Input, out *expert.Output) {
	p.calls++
	if p.calls > p.n {
		panic("model blew up")
	}
	out.Scores = [3]float32{1, 0, 0}
	out.Confidence = 1
	out.Abstain = false
}

// slow sleeps past its budget but answers.
type slow struct{ d time.Duration }

func (s *slow) Name() string { return "slow" }
func (s *slow) Kind() string { return "test" }
func (s *slow) InDim() int   { return 0 }
func (s *slow) OutDim() int  { return 0 }
func (s *slow) Eval(in *expert.Input, out *expert.Output) {
	time.Sleep(s.d)
	out.Scores = [3]float32{0, 1, 0}
	out.Confidence = 1
	out.Abstain = false
}

func seeded(rows, cols int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	w := make([]float32, rows*cols)
	for i := range w {
		w[i] = float32(rng.NormFloat64() / math.Sqrt(float64(rows)))
	}
	return w
}

// oneLayer builds a single-layer model over the given experts.
func oneLayer(t testing.TB, version uint64, dim int, experts []expert.Expert, budget time.Duration) *Model {
	t.Helper()
	rl, err := router.NewLayer(router.LayerConfig{Version: version, Experts: len(experts), CapacityFactor: 2, P: 0.8,
		MaxExpertsPerToken: min(len(experts), MaxKept), Undercovered: router.PolicyArgmax}, dim, seeded(dim, len(experts), version))
	if err != nil {
		t.Fatal(err)
	}
	lm := LayerModel{Router: rl}
	for i, e := range experts {
		lm.Experts = append(lm.Experts, expert.NewGuard(e, budget))
		lm.IDs = append(lm.IDs, ExpertID(0, e.Name()+string(rune('a'+i))))
	}
	return &Model{Version: version, EmbedDim: dim, Proj: seeded(dim, window.NumFeatures, version+100), Layers: []LayerModel{lm}}
}

func heads(t testing.TB) []expert.Expert {
	m, _ := expert.NewMomentum("momentum", expert.MomentumConfig{})
	r, _ := expert.NewMeanReversion("mean_reversion", expert.MeanReversionConfig{})
	o, _ := expert.NewOrderFlow("order_flow", expert.OrderFlowConfig{})
	return []expert.Expert{m, r, o}
}

// windows makes a stream of windows for syms symbols over boundaries.
func windows(syms, boundaries int, seed uint64) []window.FeatureWindow {
	rng := rand.New(rand.NewPCG(seed, 2))
	var out []window.FeatureWindow
	for b := 0; b < boundaries; b++ {
		for s := 1; s <= syms; s++ {
			w := window.FeatureWindow{Symbol: uint32(s), Start: int64(b) * 100, End: int64(b)*100 + 200}
			w.ID[0], w.ID[1], w.ID[2] = byte(s), byte(b), byte(b>>8)
			f := &w.Features
			f[window.FMid] = 100 + rng.Float64()
			f[window.FMidReturn] = rng.NormFloat64() * 1e-3
			f[window.FRealizedVol] = 1e-4 + rng.Float64()*1e-3
			f[window.FSpreadBps] = rng.Float64() * 5
			f[window.FOFI] = rng.NormFloat64() * 200
			f[window.FTobImbalance] = rng.Float64()*2 - 1
			out = append(out, w)
		}
	}
	return out
}

func newSyms(n int) *record.Symbols {
	syms := record.NewSymbols()
	for i := 0; i < n; i++ {
		syms.Intern(string(rune('A' + i)))
	}
	return syms
}

// drive feeds windows to a stage as one partition would, a mark after each
// boundary, and collects the traces.
func drive(t testing.TB, s *Stage, ws []window.FeatureWindow) {
	t.Helper()
	feed(s, ws)
	s.Flush()
}

// feed gives windows and a mark after each boundary, without the final
// flush (the input goes on).
func feed(s *Stage, ws []window.FeatureWindow) {
	for i := range ws {
		s.OnWindow(&ws[i])
		if i+1 == len(ws) || ws[i+1].End != ws[i].End {
			s.OnMark(0, ws[i].End)
		}
	}
}

func TestStageDeterministic(t *testing.T) {
	run := func() []DecisionTrace {
		var got []DecisionTrace
		s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, MaxBatch: 7,
			Emit: func(tr *DecisionTrace) { got = append(got, *tr) }}, newSyms(20), oneLayer(t, 1, 8, heads(t), 0))
		if err != nil {
			t.Fatal(err)
		}
		drive(t, s, windows(20, 30, 1))
		return got
	}
	a, b := run(), run()
	if len(a) != 600 || len(a) != len(b) {
		t.Fatalf("%d and %d traces, want 600", len(a), len(b))
	}
	actions := map[uint8]int{}
	for i := range a {
		if a[i].Hash != b[i].Hash || a[i].ID != b[i].ID {
			t.Fatalf("trace %d differs between identical runs", i)
		}
		actions[a[i].Action]++
		var sum float32
		for _, g := range a[i].Gates[:a[i].NGates] {
			sum += g
		}
		if math.Abs(float64(sum)-1) > 1e-5 || a[i].NSel[0] == 0 || a[i].RouterVersion != 1 || a[i].Batch == 0 || a[i].Batch > 7 {
			t.Fatalf("trace %d: gates sum %v, %d selected, version %d, batch %d", i, sum, a[i].NSel[0], a[i].RouterVersion, a[i].Batch)
		}
	}
	if actions[ActionBuy] == 0 || actions[ActionSell] == 0 {
		t.Fatalf("actions %v: the feed should give both buys and sells", actions)
	}
	// Round trip through the journal encoding.
	rec := AppendTraceRecord(nil, &a[5], "t", "F")
	d, err := DecodeTraceRecord(rec)
	if err != nil || d.Trace.Hash != a[5].Hash || d.Trace.ID != a[5].ID || d.Trace.Actions != a[5].Actions {
		t.Fatalf("decode: %v", err)
	}
	for cut := 0; cut < len(rec); cut++ {
		if _, err := DecodeTraceRecord(rec[:cut]); err == nil {
			t.Fatalf("truncated trace at %d decoded", cut)
		}
	}
}

// TestExpertPanicIsolated: an expert that panics (and one that overruns its
// budget) does not stop decisions: the others still vote, the panicking one
// abstains until restarted, and both are counted.
func TestExpertPanicIsolated(t *testing.T) {
	exps := append(heads(t), &panicky{n: 10}, &slow{d: 200 * time.Microsecond})
	m := oneLayer(t, 1, 8, exps, 100*time.Microsecond)
	var got []DecisionTrace
	s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, Emit: func(tr *DecisionTrace) { got = append(got, *tr) }}, newSyms(10), m)
	if err != nil {
		t.Fatal(err)
	}
	drive(t, s, windows(10, 20, 3))
	if len(got) != 200 {
		t.Fatalf("%d traces, want 200", len(got))
	}
	g := m.Layers[0].Experts[3]
	st := g.Stats()
	if st.Panics != 1 || !st.Failed || st.LastError == "" {
		t.Fatalf("panicky stats %+v", st)
	}
	decided := 0
	for _, tr := range got[100:] {
		for _, a := range tr.Actions[0][:tr.NSel[0]] {
			if a.Expert == 3 && !a.Abstain {
				t.Fatal("a failed expert voted")
			}
		}
		if tr.Action != ActionAbstain {
			decided++
		}
	}
	if decided == 0 {
		t.Fatal("no decisions after the panic")
	}
	if slowSt := m.Layers[0].Experts[4].Stats(); slowSt.OverBudget == 0 {
		t.Fatalf("over-budget calls not counted: %+v", slowSt)
	}
	g.Restart()
	if g.Failed() {
		t.Fatal("restart did not clear the failure")
	}
}

// TestHotReloadUnderLoad: versions swap while batches are routed; every
// trace's gates are exactly those of the version it names, and each batch
// uses one version.
func TestHotReloadUnderLoad(t *testing.T) {
	const dim = 8
	models := map[uint64]*Model{1: oneLayer(t, 1, dim, heads(t), 0)}
	for v := uint64(2); v <= 20; v++ {
		models[v] = oneLayer(t, v, dim, heads(t), 0)
	}
	var got []DecisionTrace
	s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, MaxBatch: 16,
		Emit: func(tr *DecisionTrace) { got = append(got, *tr) }}, newSyms(30), models[1])
	if err != nil {
		t.Fatal(err)
	}
	ws := windows(30, 200, 5)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := uint64(2); v <= 20; v++ {
			if err := s.Swap(models[v]); err != nil {
				t.Error(err)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	drive(t, s, ws)
	wg.Wait()
	if err := s.Swap(models[3]); err == nil {
		t.Fatal("a lower version was accepted")
	}
	versions := map[uint64]int{}
	var emb [dim]float32
	var probs [8]float32
	for i := range got {
		tr := &got[i]
		m := models[tr.RouterVersion]
		versions[tr.RouterVersion]++
		// Recompute this token's gate probabilities with its version.
		w := &ws[indexOf(ws, tr.WindowID)]
		m.Embed(&w.Features, emb[:])
		E := m.Layers[0].Router.Experts()
		a := router.NewAssignment(1, E)
		if err := m.Layers[0].Router.Route(emb[:], 1, a); err != nil {
			t.Fatal(err)
		}
		copy(probs[:], a.Probs)
		for e := 0; e < E; e++ {
			if tr.Gates[e] != probs[e] {
				t.Fatalf("trace %d (v%d): gate %d = %v, its version gives %v", i, tr.RouterVersion, e, tr.Gates[e], probs[e])
			}
		}
		if i > 0 && got[i-1].End == tr.End && got[i-1].Batch == tr.Batch && got[i-1].RouterVersion > tr.RouterVersion {
			t.Fatalf("versions went backwards inside a boundary at trace %d", i)
		}
	}
	if len(versions) < 2 {
		t.Fatalf("versions seen %v: the swap never took effect under load", versions)
	}
}

func indexOf(ws []window.FeatureWindow, id [16]byte) int {
	for i := range ws {
		if ws[i].ID == id {
			return i
		}
	}
	panic("window not found")
}

func TestRiskDenyAndPositionCap(t *testing.T) {
	var got []DecisionTrace
	deny := NewDenyList()
	deny.Set("t", "B", true)
	s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, Deny: deny, Risk: RiskConfig{MaxPosition: 2},
		Emit: func(tr *DecisionTrace) { got = append(got, *tr) }}, newSyms(3), oneLayer(t, 1, 8, []expert.Expert{&panicky{n: 1 << 30}}, 0))
	if err != nil {
		t.Fatal(err)
	}
	drive(t, s, windows(3, 10, 9))
	var pos [4]int64
	for _, tr := range got {
		switch {
		case tr.Symbol == 2:
			if tr.Action != ActionAbstain || tr.RiskFlags&RiskHalted == 0 {
				t.Fatalf("denied symbol traded: %+v", tr.RiskFlags)
			}
		case tr.Proposed == ActionBuy && pos[tr.Symbol] >= 2:
			if tr.Action != ActionAbstain || tr.RiskFlags&RiskPositionCap == 0 {
				t.Fatal("position cap not enforced")
			}
		}
		pos[tr.Symbol] = tr.Position
	}
	if pos[1] != 2 || pos[3] != 2 || pos[2] != 0 {
		t.Fatalf("positions %v", pos)
	}
	breaches, _, flagged, halted, _ := s.RiskCounters()
	// A position at its cap is refused and flagged; it is not a breach
	// (no loss limit here).
	if breaches != 0 || flagged == 0 || halted != 10 {
		t.Fatalf("breaches %d flagged %d halted %d, want 0, >0, 10", breaches, flagged, halted)
	}
	deny.HaltAll(true)
	got = got[:0]
	s2, _ := NewStage(StageConfig{Tenant: "t", Partitions: 1, Deny: deny,
		Emit: func(tr *DecisionTrace) { got = append(got, *tr) }}, newSyms(3), oneLayer(t, 1, 8, []expert.Expert{&panicky{n: 1 << 30}}, 0))
	drive(t, s2, windows(3, 12, 9))
	for _, tr := range got {
		if tr.Action != ActionAbstain {
			t.Fatal("kill switch did not halt")
		}
	}
}

func TestStageNoAllocs(t *testing.T) {
	s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, Emit: func(*DecisionTrace) {}}, newSyms(8), oneLayer(t, 1, 8, heads(t), 0))
	if err != nil {
		t.Fatal(err)
	}
	ws := windows(8, 400, 4)
	drive(t, s, ws[:800]) // warm up: per-symbol state
	lap, i := int64(1), 800
	a := testing.AllocsPerRun(300, func() {
		var end int64
		for k := 0; k < 8; k++ {
			if i == len(ws) {
				i, lap = 800, lap+1
			}
			w := ws[i]
			w.Start += lap << 30
			w.End += lap << 30
			end = w.End
			s.OnWindow(&w)
			i++
		}
		s.OnMark(0, end)
	})
	if a != 0 {
		t.Fatalf("allocs per batch = %v", a)
	}
}

func FuzzDecodeTraceRecord(f *testing.F) {
	tr := DecisionTrace{Layers: 1, NGates: 3, NSel: [MaxLayers]uint8{2}}
	f.Add(AppendTraceRecord(nil, &tr, "t", "ESH4"))
	f.Add(AppendEdge(nil, &Edge{Type: EdgeWindowTrace}))
	f.Fuzz(func(t *testing.T, b []byte) {
		codectest.Reencodes(t, b, ErrCorruptTrace, DecodeTraceRecord, func(d DecodedTrace) []byte {
			return AppendTraceRecord(nil, &d.Trace, d.Tenant, d.Key)
		})
		codectest.Reencodes(t, b, ErrCorruptTrace, DecodeEdge, func(e Edge) []byte { return AppendEdge(nil, &e) })
	})
}

// TestBreachStreakForcesSlowExperts: after BreachIntervals breach intervals
// in a row, experts whose p99 latency is above HighLatency are forced to
// abstain (ladder step 6); fast experts keep voting. A clean interval
// releases them.
func TestBreachStreakForcesSlowExperts(t *testing.T) {
	slowE := &slow{d: 300 * time.Microsecond}
	m := oneLayer(t, 1, 8, []expert.Expert{&panicky{n: 1 << 30}, slowE}, time.Second)
	var got []DecisionTrace
	deny := NewDenyList()
	s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, Deny: deny,
		Risk: RiskConfig{MaxPosition: 1, MaxLoss: 0.01, Interval: 100, BreachIntervals: 3, HighLatency: 50 * time.Microsecond},
		Emit: func(tr *DecisionTrace) { got = append(got, *tr) }}, newSyms(4), m)
	if err != nil {
		t.Fatal(err)
	}
	// The buyer goes long on every symbol while the market falls: every
	// interval from the second on crosses the loss limit.
	all := windows(4, 20, 1)
	for i := range all {
		all[i].Features[window.FMid] = 100 - 0.5*float64(i/4)
	}
	feed(s, all[:48])
	_, streaks, _, _, forcing := s.RiskCounters()
	if !forcing || streaks == 0 {
		t.Fatalf("forcing %v after %d streaks", forcing, streaks)
	}
	// The stage reads no wall-clock latency: which experts abstain is the
	// control plane's call (the ladder, from their p99), applied in band.
	if m.Layers[0].Experts[1].Stats().Forced {
		t.Fatal("the stage forced an expert by itself")
	}
	if err := s.ScheduleOp(all[47].End, Op{Kind: OpBreachForce, Layer: 0, Expert: "slow"}); err != nil {
		t.Fatal(err)
	}
	feed(s, all[48:60])
	if !m.Layers[0].Experts[1].Stats().Forced || m.Layers[0].Experts[0].Stats().Forced {
		t.Fatal("the slow expert should be forced, the fast one not")
	}
	last := got[len(got)-1]
	if last.RiskFlags&RiskBreachForced == 0 {
		t.Fatalf("trace does not say experts are forced: flags %v", RiskNames(last.RiskFlags))
	}
	for _, a := range last.Actions[0][:last.NSel[0]] {
		if a.Expert == 1 && !a.Abstain {
			t.Fatal("forced expert voted")
		}
	}
	// The flag says a forced expert was used: not on a trace that did not
	// select it (the fast expert is never forced).
	flagged := 0
	for _, tr := range got {
		used := false
		for _, a := range tr.Actions[0][:tr.NSel[0]] {
			used = used || (a.Expert == 1 && a.Abstain)
		}
		if has := tr.RiskFlags&RiskBreachForced != 0; has != used {
			t.Fatalf("trace %d: breach_forced_abstain %v, forced expert used %v", tr.Symbol, has, used)
		}
		if used {
			flagged++
		}
	}
	if flagged == 0 {
		t.Fatal("no trace used the forced expert")
	}
	// Halting every symbol (in band) stops new trades: no more breaches,
	// the streak ends, and the release comes in band too.
	if err := s.ScheduleOp(all[59].End, Op{Kind: OpHalt}); err != nil {
		t.Fatal(err)
	}
	feed(s, all[60:72])
	if _, _, _, _, forcing := s.RiskCounters(); forcing {
		t.Fatal("the streak did not end after clean intervals")
	}
	if err := s.ScheduleOp(all[71].End, Op{Kind: OpBreachRelease, Layer: 0, Expert: "slow"}); err != nil {
		t.Fatal(err)
	}
	drive(t, s, all[72:])
	if m.Layers[0].Experts[1].Stats().Forced {
		t.Fatal("forcing not released")
	}
	if n, un := s.Metrics().Ops.Load(), s.Metrics().OpsUnmatched.Load(); n != 3 || un != 0 {
		t.Fatalf("ops %d, unmatched %d", n, un)
	}
}

// TestDenyListBounded: past MaxDenyEntries a new deny is refused; a pair
// already denied, an undeny and the kill switch still work.
func TestDenyListBounded(t *testing.T) {
	d := NewDenyList()
	for i := range MaxDenyEntries {
		if !d.Set("t", fmt.Sprint("S", i), true) {
			t.Fatalf("deny %d refused", i)
		}
	}
	if !d.Full("t", "new") || d.Set("t", "new", true) || d.Denied("t", "new") {
		t.Fatal("a deny past the limit was taken")
	}
	if d.Full("t", "S7") || !d.Set("t", "S7", true) {
		t.Fatal("re-denying a denied pair was refused")
	}
	if !d.Set("t", "S7", false) || d.Full("t", "new") || !d.Set("t", "new", true) {
		t.Fatal("an undeny did not make room")
	}
	d.HaltAll(true)
	if !d.Denied("t", "anything") || d.Len() != MaxDenyEntries {
		t.Fatalf("kill switch: %v, %d entries", d.Denied("t", "anything"), d.Len())
	}
}
