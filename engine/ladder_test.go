package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"thunderline/actors/chief"
	"thunderline/engine/runjournal"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

// TestLadderActionsInBand: a scripted 10× burst (lag and backlog far over
// their thresholds, then healthy) walks the ladder 1→5 and back to 0 while
// the pipeline runs; every action reaches the data plane in band: the
// journal holds widened and non-overlapping windows, windows of the coarse
// and core recipes and lowered-p router versions, and replaying it (with
// another partition count) re-derives every hash.
func TestLadderActionsInBand(t *testing.T) {
	prof := testProfile(t, lateProfile)
	dir := filepath.Join(t.TempDir(), "run")
	p, src := newSynthetic(t, prof, 300_000, Options{JournalDir: dir})
	var steps []int
	l, err := p.NewLadder(LadderConfig{Chief: chief.Config{DownAfter: 2}, OnEvent: func(ev chief.Event) { steps = append(steps, ev.To) }})
	if err != nil {
		t.Fatal(err)
	}
	burst := chief.Sample{LagP95: time.Second, TargetWindow: 100 * time.Millisecond, Backlog: 100, Concurrency: 2,
		ExpertsPerToken: 3, PlannedExpertsPerToken: 2}
	calm := chief.Sample{TargetWindow: 100 * time.Millisecond, Concurrency: 2, ExpertsPerToken: 2, PlannedExpertsPerToken: 2}
	// The ladder observes one scripted interval every 15,000 ticks, from
	// the reader's goroutine (a wrapped source), so its controls land at
	// the same input positions in every run of this test.
	script := []chief.Sample{burst, burst, burst, burst, burst}
	for i := 0; i < 10; i++ {
		script = append(script, calm)
	}
	scripted := &scriptedSource{src: src, every: 15_000, step: func() {
		if len(script) > 0 {
			l.Observe(script[0])
			script = script[1:]
		}
	}}
	sum, err := p.Run(context.Background(), scripted)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1, 2, 3, 4, 5, 4, 3, 2, 1, 0}
	if len(steps) != len(want) {
		t.Fatalf("ladder steps %v, want %v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("ladder steps %v, want %v", steps, want)
		}
	}
	if sum.Decisions.RouterVersion < 2 {
		t.Fatalf("router version %d: p was never lowered", sum.Decisions.RouterVersion)
	}
	// The journal holds windows of every recipe the ladder went through.
	rec, err := LoadRecorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	recipes := recipesIn(t, dir)
	for _, r := range []window.Recipe{window.RecipeFull, window.RecipeCoarse, window.RecipeCore} {
		if recipes[r] == 0 {
			t.Fatalf("no %s windows in the journal: %v (controls %d)", r, recipes, rec.Kinds["control"])
		}
	}
	lengths := lengthsIn(t, dir)
	base := int64(100 * time.Millisecond)
	if lengths[base] == 0 || lengths[base*3/2] == 0 || lengths[base*9/4] == 0 {
		t.Fatalf("window lengths in the journal %v: want the base, ×1.5 and ×2.25", lengths)
	}
	rs, err := Replay(context.Background(), []string{dir}, ReplayOptions{Verify: true, Partitions: 3})
	if err != nil {
		if rs != nil && rs.Verify != nil {
			for _, m := range rs.Verify.First {
				t.Logf("mismatch %+v", m)
			}
			t.Logf("live windows %d traces %d; replay windows %d traces %d", sum.Windows, sum.Traces, rs.Windows, rs.Traces)
		}
		t.Fatalf("replay of a run with ladder actions: %v", err)
	}
	if rs.WindowDigest != sum.WindowDigest || rs.TraceDigest != sum.TraceDigest {
		t.Fatal("replay digests differ from the run")
	}
}

// journalWindows decodes every window record of a run's journal.
func journalWindows(t *testing.T, dir string) []window.FeatureWindow {
	t.Helper()
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []window.FeatureWindow
	for {
		kind, _, payload, err := r.Next()
		if err != nil {
			return out
		}
		if kind == runjournal.RecWindow {
			d, err := window.DecodeWindowRecord(payload)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d.Window)
		}
	}
}

func lengthsIn(t *testing.T, dir string) map[int64]int {
	out := map[int64]int{}
	for _, w := range journalWindows(t, dir) {
		out[w.End-w.Start]++
	}
	return out
}

func recipesIn(t *testing.T, dir string) map[window.Recipe]int {
	out := map[window.Recipe]int{}
	for _, w := range journalWindows(t, dir) {
		out[w.Recipe]++
	}
	return out
}

// scriptedSource calls step every `every` ticks, between batches.
type scriptedSource struct {
	src   Source
	every uint64
	n     uint64
	step  func()
}

func (s *scriptedSource) Next(dst []record.MarketTick) (int, error) {
	n, err := s.src.Next(dst)
	before := s.n
	s.n += uint64(n)
	if s.n/s.every != before/s.every {
		s.step()
	}
	return n, err
}
