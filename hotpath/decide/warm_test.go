package decide

import (
	"testing"

	"thunderline/hotpath/alloctest"
	"thunderline/hotpath/expert"
)

// warmModel is a two-layer model with heads, seeded MLPs (a hidden layer of
// MLPs feeding the final layer's heads and MLP head) so a warm-up walks
// every kind of pure expert and the layer-to-layer path.
func warmModel(t *testing.T) *Model {
	t.Helper()
	const dim = 8
	var hidden []expert.Expert
	for i := range 3 {
		m, err := expert.NewMLPSeeded("h", dim, 16, dim, uint64(10+i))
		if err != nil {
			t.Fatal(err)
		}
		hidden = append(hidden, m)
	}
	l0 := oneLayer(t, 1, dim, hidden, 0).Layers[0]
	l0.OutDim = dim
	cfg := expert.MLPConfig{Name: "head", In: dim, Hidden: 16, Out: expert.NumActions, Activation: expert.Tanh, Head: true}
	expert.SeedWeights(&cfg, 99)
	head, err := expert.NewMLP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := oneLayer(t, 1, dim, append(heads(t), head), 0)
	m.Layers = append([]LayerModel{l0}, m.Layers...)
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWarmChangesNothing: a stage that warms up several times between
// every two boundaries decides exactly what one that never does decides,
// trace for trace (hash included), and its experts' guards count the same
// calls: a warm-up calls experts directly, into buffers of its own.
func TestWarmChangesNothing(t *testing.T) {
	ws := windows(12, 60, 5)
	run := func(warm bool) ([]DecisionTrace, []expert.GuardStats, uint64) {
		var got []DecisionTrace
		m := warmModel(t)
		s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, MaxBatch: 7, Warm: warm,
			Emit: func(tr *DecisionTrace) { got = append(got, *tr) }}, newSyms(12), m)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ws {
			s.OnWindow(&ws[i])
			if i+1 == len(ws) || ws[i+1].End != ws[i].End {
				s.OnMark(0, ws[i].End)
				if warm {
					for range 3 {
						s.Warm()
					}
				}
			}
		}
		s.Flush()
		var stats []expert.GuardStats
		for _, l := range m.Layers {
			for _, g := range l.Experts {
				stats = append(stats, g.Stats())
			}
		}
		return got, stats, s.Metrics().Warms.Load()
	}
	plain, plainStats, _ := run(false)
	warm, warmStats, warms := run(true)
	if warms == 0 {
		t.Fatal("no warm-up ran")
	}
	if len(plain) != len(ws) || len(warm) != len(plain) {
		t.Fatalf("traces: %d warm, %d plain, %d windows", len(warm), len(plain), len(ws))
	}
	for i := range plain {
		a, b := plain[i], warm[i]
		if a.Hash != b.Hash || a.Action != b.Action || a.Scores != b.Scores || a.Gates != b.Gates || a.Behavior != b.Behavior {
			t.Fatalf("trace %d differs: warm %x %v, plain %x %v", i, b.Hash[:6], b.Scores, a.Hash[:6], a.Scores)
		}
	}
	for i := range plainStats {
		if plainStats[i].Calls != warmStats[i].Calls || plainStats[i].Abstains != warmStats[i].Abstains {
			t.Fatalf("expert %d: guard counted %+v with warm-ups, %+v without", i, warmStats[i], plainStats[i])
		}
	}
}

// TestWarmNoAllocs: a warm-up allocates nothing (it runs in a latency-first
// loop's idle time), and before any batch it does nothing.
func TestWarmNoAllocs(t *testing.T) {
	s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, Warm: true, Emit: func(*DecisionTrace) {}}, newSyms(8), warmModel(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Warm()
	if s.Metrics().Warms.Load() != 0 {
		t.Fatal("a warm-up ran before any batch")
	}
	drive(t, s, windows(8, 20, 4))
	if n := alloctest.Count(200, func() { s.Warm() }); n != 0 {
		t.Fatalf("%d allocations over 200 warm-ups", n)
	}
	if s.Metrics().Warms.Load() == 0 {
		t.Fatal("no warm-up ran")
	}
}
