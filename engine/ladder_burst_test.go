//go:build !race

// This test runs the engine in real time under an overload of known size;
// the race detector slows the engine about tenfold, which would add an
// overload of its own: `make test` runs this file without -race (see the
// Makefile).

package engine

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"thunderline/actors/chief"
	"thunderline/adapters/synthetic"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
)

// TestLadderUnderRealBurst: a synthetic 25× burst overloads the run by
// construction — its journal sink is throttled to 20,000 records a second,
// well above the base rate and well below what any machine running the
// tests does, and the rings are small, so the burst backs up into the
// reader at once — and the ladder, measuring the run itself, walks up in
// order while the backlog lasts and back down, one step at a time, after
// it (seed 004 §11 "Performance"). Neither the disk's nor the CPU's speed
// decides the outcome.
func TestLadderUnderRealBurst(t *testing.T) {
	prof := testProfile(t, `
feed: {pace: realtime, synthetic: {rate: 4000, symbols: 16, burst_every: 4s, burst_length: 300ms, burst_multiplier: 25}}
normalize: {seq: contiguous}
window: {length: 100ms}
rings: {partition: 1024, journal: 1024, output: 1024}
journal: {fsync: never, compression: none}
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
	p.wrapSink = func(s sink) sink { return &throttledSink{sink: s, rate: 20000} }
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

// throttledSink passes records on at most rate a second (a leaky bucket
// with 10ms of credit): a sink of known speed.
type throttledSink struct {
	sink
	rate float64
	next time.Time
	n    int
}

func (s *throttledSink) pace() {
	s.n++
	if s.n < 32 {
		return
	}
	now := time.Now()
	if s.next.Before(now.Add(-10 * time.Millisecond)) {
		s.next = now.Add(-10 * time.Millisecond)
	}
	s.next = s.next.Add(time.Duration(float64(s.n) / s.rate * 1e9))
	s.n = 0
	if d := s.next.Sub(now); d > 0 {
		time.Sleep(d)
	}
}

func (s *throttledSink) tick(t *record.MarketTick) error { s.pace(); return s.sink.tick(t) }
func (s *throttledSink) output(o *partition.Output) error {
	s.pace()
	return s.sink.output(o)
}
func (s *throttledSink) trace(t *decide.DecisionTrace) error { s.pace(); return s.sink.trace(t) }
