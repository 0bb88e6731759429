//go:build !race

// This test measures the engine itself under overload; the race detector
// slows the engine about tenfold, so it never recovers from the burst in
// time: `make test` runs this file without -race (see the Makefile).

package engine

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"thunderline/actors/chief"
	"thunderline/adapters/synthetic"
	"thunderline/hotpath/record"
)

// TestLadderUnderRealBurst: a synthetic 20× burst the engine cannot keep
// up with (paced in real time, the journal fsyncing every block, so the
// disk and not the CPU sets the ceiling) fills the partition rings;
// the ladder, measuring the run itself, walks up in order while the burst
// lasts and back down, one step at a time, after it (seed 004 §11
// "Performance").
func TestLadderUnderRealBurst(t *testing.T) {
	prof := testProfile(t, `
feed: {pace: realtime, synthetic: {rate: 30000, symbols: 32, burst_every: 3s, burst_length: 300ms, burst_multiplier: 200}}
normalize: {seq: contiguous}
journal: {fsync: always, compression: zstd}
ladder: {interval: 100ms, down_after: 2}
risk: {max_position: 1000000000}
`)
	syms := record.NewSymbols()
	sc := prof.SyntheticConfig()
	sc.Start = 0
	feed, _ := synthetic.New(sc, syms)
	dir := filepath.Join(t.TempDir(), "run")
	p, err := New(Options{Profile: prof, Symbols: syms, JournalDir: dir, Pacing: PaceRealtime, For: 25 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var steps []int
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := p.RunLadder(ctx, func(ev chief.Event) {
		mu.Lock()
		steps = append(steps, ev.To)
		top := 0
		for _, s := range steps {
			top = max(top, s)
		}
		mu.Unlock()
		if top >= 2 && ev.To == 0 {
			cancel() // up and back down: done
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(ctx, SyntheticSource{Feed: feed}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(steps) < 2 {
		t.Fatalf("ladder steps %v (counters %+v): the burst never degraded the run", steps, l.l.Counters())
	}
	top := 0
	for i, s := range steps {
		prev := 0
		if i > 0 {
			prev = steps[i-1]
		}
		if s != prev+1 && s != prev-1 {
			t.Fatalf("ladder steps %v: moved by more than one step", steps)
		}
		top = max(top, s)
	}
	t.Logf("ladder steps %v", steps)
	if steps[len(steps)-1] != 0 || top < 2 {
		t.Fatalf("ladder steps %v: want a climb of at least two steps and a return to 0", steps)
	}
}
