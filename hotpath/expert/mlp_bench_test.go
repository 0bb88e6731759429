package expert

import (
	"testing"

	"thunderline/hotpath/window"
)

// Results: go test -run '^$' -bench 'MLP|Guard|Heads' -benchmem -count 5
// ./hotpath/expert/ on the project machine (2 cores, "Intel(R) Xeon(R)
// Processor", go1.26), shared with other builds (load average ~3), medians:
//
//	shape                hand ns/op  allocs   gorgonia ns/op  allocs (B)   hand faster by
//	13x32x16 tanh            1287       0          2500       17 (328)       1.9×
//	32x64x32 relu            1264       0          2983       17 (328)       2.4×
//	64x128x3 head relu       2614       0          4840       17 (328)       1.9×
//
// The hand kernel is faster at every shape and the only one that does not
// allocate, so MLP uses it; gorgoniaMLP stays as the test reference. (At
// 13x32x16 most of the hand time is the 32 deterministic tanh calls.)
//
// Guard: bare Momentum ~19 ns, through a Guard ~190 ns on the loaded
// machine (~170 ns idle): the two monotonic clock reads (time.Now, then
// time.Since, ~85 ns together here) and four atomic operations. Heads:
// momentum ~19 ns, mean_reversion ~10 ns, order_flow ~22 ns, all 0 allocs.

func BenchmarkMLPHand(b *testing.B) {
	benchMLPShapes(b, func(cfg MLPConfig) func(*Input, *Output) {
		m, err := NewMLP(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return m.Eval
	})
}

func BenchmarkMLPGorgonia(b *testing.B) {
	benchMLPShapes(b, func(cfg MLPConfig) func(*Input, *Output) { return newGorgoniaMLP(cfg).eval })
}

// benchMLPShapes runs a sub-benchmark per shape of mlpShapes: the
// evaluation eval makes for the shape's seeded configuration.
func benchMLPShapes(b *testing.B, eval func(MLPConfig) func(*Input, *Output)) {
	for si, s := range mlpShapes {
		run := eval(seededConfig(s.in, s.hidden, s.out, s.head, s.act, uint64(si)))
		in := &Input{Embedding: testEmbedding(s.in, 1)}
		out := &Output{Hidden: make([]float32, s.out)}
		b.Run(shapeName(s.in, s.hidden, s.out, s.head), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				run(in, out)
			}
		})
	}
}

func BenchmarkHeads(b *testing.B) {
	mom, _ := NewMomentum("m", MomentumConfig{})
	mr, _ := NewMeanReversion("r", MeanReversionConfig{})
	of, _ := NewOrderFlow("o", OrderFlowConfig{})
	f := make([]float64, window.NumFeatures)
	f[window.FMid], f[window.FMidReturn], f[window.FRealizedVol] = 100, 0.003, 0.001
	f[window.FSpreadBps], f[window.FOFI], f[window.FTobImbalance] = 2, 40, -0.2
	in := &Input{Features: f}
	var out Output
	for _, e := range []Expert{mom, mr, of} {
		b.Run(e.Kind(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Eval(in, &out)
			}
		})
	}
}

// BenchmarkGuard measures what a Guard adds per call: bare is the expert
// alone, guarded the same expert through a Guard.
func BenchmarkGuard(b *testing.B) {
	mom, _ := NewMomentum("m", MomentumConfig{})
	f := make([]float64, window.NumFeatures)
	f[window.FMid], f[window.FMidReturn], f[window.FRealizedVol] = 100, 0.003, 0.001
	in := &Input{Features: f}
	var out Output
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mom.Eval(in, &out)
		}
	})
	g := NewGuard(mom, 0)
	b.Run("guarded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			g.Eval(in, &out)
		}
	})
}
