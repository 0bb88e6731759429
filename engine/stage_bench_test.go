package engine

import (
	"math/rand/v2"
	"testing"

	"thunderline/engine/config"
	"thunderline/engine/routermodel"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
)

// BenchmarkRouteBatch16 decides batches of 16 windows (the symbol count of
// the colocated and burst runs) with the default router, from the stage's
// mark to its last trace: the compute share of close → trace latency,
// without the loops and hand-offs around it. Warm caches: in a live run a
// batch comes every 125 ms and finds them cold.
func BenchmarkRouteBatch16(b *testing.B) {
	const syms, pool = 16, 64
	m, err := routermodel.Build(config.Router{})
	if err != nil {
		b.Fatal(err)
	}
	names := record.NewSymbols()
	for i := 0; i < syms; i++ {
		names.Intern(string(rune('A' + i)))
	}
	traces := 0
	s, err := decide.NewStage(decide.StageConfig{Tenant: "t", Partitions: 1, MaxBatch: 256,
		Emit: func(*decide.DecisionTrace) { traces++ }}, names, m)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	ws := make([]window.FeatureWindow, syms*pool)
	for i := range ws {
		f := &ws[i].Features
		f[window.FMid] = 100 + rng.Float64()
		f[window.FMidReturn] = rng.NormFloat64() * 1e-3
		f[window.FRealizedVol] = 1e-4 + rng.Float64()*1e-3
		f[window.FSpreadBps] = rng.Float64() * 5
		f[window.FOFI] = rng.NormFloat64() * 200
		f[window.FTobImbalance] = rng.Float64()*2 - 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := ws[(i%pool)*syms : (i%pool+1)*syms]
		end := int64(i)*100 + 200
		for j := range batch {
			w := &batch[j]
			w.Symbol, w.Start, w.End = uint32(j+1), end-200, end
			w.ID[0], w.ID[1], w.ID[2], w.ID[3] = byte(j), byte(i), byte(i>>8), byte(i>>16)
			s.OnWindow(w)
		}
		s.OnMark(0, end)
	}
	b.StopTimer()
	if traces != b.N*syms {
		b.Fatalf("%d traces from %d batches of %d", traces, b.N, syms)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*syms), "ns/token")
}
