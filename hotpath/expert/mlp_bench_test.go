package expert

import (
	"testing"

	"thunderline/hotpath/window"
)

// Results (go test -run '^$' -bench 'MLP|Guard|Heads' -benchmem
// ./hotpath/expert/, 2 cores, Intel Xeon Processor (Cascadelake-class VM),
// go1.26, 2025-06):
//
//	shape              hand ns/op  allocs   gorgonia ns/op  allocs   ratio
//	13x32x16 tanh          ~1270      0         ~3300        29      2.6×
//	32x64x32 relu          ~2050      0         ~5600        26      2.7×
//	64x128x3 head relu     ~3900      0         ~8400        26      2.2×
//
// (see the final numbers in the package's report). The hand kernel is
// faster at every shape and the only allocation-free one, so MLP uses it.

func BenchmarkMLPHand(b *testing.B) {
	for si, s := range mlpShapes {
		cfg := seededConfig(s.in, s.hidden, s.out, s.head, s.act, uint64(si))
		m, err := NewMLP(cfg)
		if err != nil {
			b.Fatal(err)
		}
		in := &Input{Embedding: testEmbedding(s.in, 1)}
		out := &Output{Hidden: make([]float32, s.out)}
		b.Run(shapeName(s.in, s.hidden, s.out, s.head), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Eval(in, out)
			}
		})
	}
}

func BenchmarkMLPGorgonia(b *testing.B) {
	for si, s := range mlpShapes {
		cfg := seededConfig(s.in, s.hidden, s.out, s.head, s.act, uint64(si))
		g := newGorgoniaMLP(cfg)
		in := &Input{Embedding: testEmbedding(s.in, 1)}
		out := &Output{Hidden: make([]float32, s.out)}
		b.Run(shapeName(s.in, s.hidden, s.out, s.head), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				g.eval(in, out)
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
