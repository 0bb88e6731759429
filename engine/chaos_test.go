package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"thunderline/actors/chief"
	"thunderline/actors/tree"
	"thunderline/hotpath/decide"
)

// TestChaosReplays: real-time runs under their actor tree while a seeded
// chaos monkey does what operators, the ladder and faults do — deny and
// undeny symbols, the kill switch on and off, experts forced, unforced,
// retired and restarted, experts and partitions panicking, ladder steps up
// and down — at wall-clock moments. Every action that changes decisions
// goes in band, so each run's journal replays with --verify, on 1 and on 4
// partitions, to the same windows and traces. 20 seeds.
func TestChaosReplays(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { chaosRun(t, seed) })
	}
}

func chaosRun(t *testing.T, seed uint64) {
	prof := testProfile(t, strings.Replace(lateProfile, "feed: {synthetic: {symbols: 40,", "feed: {pace: realtime, synthetic: {rate: 60000, symbols: 12,", 1))
	dir := filepath.Join(t.TempDir(), "run")
	p, src := newSynthetic(t, prof, 30_000, Options{Partitions: 2, JournalDir: dir, Pacing: PaceRealtime})
	tr, err := p.StartTree(tree.Options{Cadence: 5 * time.Millisecond}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	lad, err := p.NewLadder(LadderConfig{Chief: chief.Config{DownAfter: 1}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 0xc4a05))
	done := make(chan struct{})
	var wg sync.WaitGroup
	var acts []string
	wg.Go(func() {
		m := p.stage.Current()
		burst := chief.Sample{LagP95: time.Second, TargetWindow: 100 * time.Millisecond, Backlog: 100, Concurrency: 2,
			ExpertsPerToken: 3, PlannedExpertsPerToken: 2, BreachIntervals: 5}
		calm := chief.Sample{TargetWindow: 100 * time.Millisecond, Concurrency: 2, ExpertsPerToken: 2, PlannedExpertsPerToken: 2}
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Duration(5+rng.IntN(25)) * time.Millisecond):
			}
			l := rng.IntN(len(m.Layers))
			name := m.Layers[l].Experts[rng.IntN(len(m.Layers[l].Experts))].Name()
			sym := p.syms.Name(uint32(1 + rng.IntN(12)))
			var op decide.Op
			switch k := rng.IntN(10); k {
			case 0, 1:
				op = decide.Op{Kind: decide.OpDeny + decide.OpKind(k), Tenant: prof.TenantName(), Symbol: sym}
			case 2:
				op = decide.Op{Kind: decide.OpHalt + decide.OpKind(rng.IntN(2))}
			case 3, 4:
				op = decide.Op{Kind: []decide.OpKind{decide.OpForce, decide.OpUnforce, decide.OpRetire, decide.OpRestart}[rng.IntN(4)], Layer: l, Expert: name}
			case 5:
				op = decide.Op{Kind: decide.OpInjectPanic, Layer: l, Expert: name}
			case 6:
				part := rng.IntN(2)
				p.InjectPartitionPanic(part, p.disp.LastInSeq.Load()+uint64(50+rng.IntN(500)))
				acts = append(acts, fmt.Sprint("partition panic ", part))
				continue
			default:
				s := calm
				if rng.IntN(2) == 0 {
					s = burst
				}
				d := lad.Observe(s)
				acts = append(acts, fmt.Sprint("ladder ", d.Step))
				continue
			}
			if err := p.Operate(op); err == nil {
				acts = append(acts, op.Kind.String())
			}
		}
	})
	sum, err := p.Run(context.Background(), src)
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatalf("run: %v (actions %v)", err, acts)
	}
	if len(acts) < 5 || p.stage.Metrics().Ops.Load() == 0 {
		t.Fatalf("only %d chaos actions, %d applied: %v", len(acts), p.stage.Metrics().Ops.Load(), acts)
	}
	for _, parts := range []int{1, 4} {
		rs, err := Replay(context.Background(), []string{dir}, ReplayOptions{Verify: true, Partitions: parts})
		if err != nil {
			if rs != nil && rs.Verify != nil {
				for _, m := range rs.Verify.First {
					t.Logf("mismatch %+v", m)
				}
			}
			t.Fatalf("replay on %d partitions: %v (actions %v)", parts, err, acts)
		}
		if rs.TraceDigest != sum.TraceDigest || rs.WindowDigest != sum.WindowDigest || rs.Traces != sum.Traces {
			t.Fatalf("replay on %d partitions: traces %d digest %s, run %d %s (actions %v)", parts, rs.Traces, rs.TraceDigest, sum.Traces, sum.TraceDigest, acts)
		}
	}
}
