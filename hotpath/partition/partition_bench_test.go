package partition

import (
	"testing"

	"thunderline/adapters/synthetic"
	"thunderline/hotpath/normalize"
	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
)

// benchInput makes n synthetic ticks as one partition would see them: ingest
// sequence assigned and watermarks in band, through a real dispatcher.
func benchInput(b testing.TB, n int, cfg Config) ([]record.MarketTick, *record.Symbols) {
	syms := record.NewSymbols()
	feed, err := synthetic.New(synthetic.Config{Symbols: 64, Seed: 7}, syms)
	if err != nil {
		b.Fatal(err)
	}
	in, _ := ring.NewSPSC[record.MarketTick](1 << 22)
	wc := cfg.Window.WithDefaults()
	d, err := NewDispatcher([]*ring.SPSC[record.MarketTick]{in}, nil, wc.Step(), int64(wc.Lateness))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]record.MarketTick, 1024)
	for got := 0; got < n; {
		k, _ := feed.Next(buf[:min(len(buf), n-got)])
		d.Dispatch(buf[:k])
		got += k
	}
	out := make([]record.MarketTick, in.Len())
	out = out[:in.PopBatch(out)]
	return out, syms
}

// BenchmarkPartitionProcess: normalize → book → window → features on one
// partition, per tick (windows hashed and folded into the digest; no output
// ring). ticks/s is reported as a metric.
func BenchmarkPartitionProcess(b *testing.B) {
	cfg := Config{Tenant: "bench", Normalize: normalize.Config{Seq: normalize.SeqContiguous}}
	ticks, syms := benchInput(b, 1<<20, cfg)
	p, err := New(0, cfg, syms, normalize.NewUniverse(true), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	// Warm up: every symbol's state allocated once.
	for i := range ticks[:1<<16] {
		t := ticks[i]
		p.Process(&t)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var t record.MarketTick
	base := int64(0)
	span := ticks[len(ticks)-1].TsEvent - ticks[0].TsEvent + 1
	for i := 0; i < b.N; i++ {
		j := i % len(ticks)
		if j == 0 && i > 0 {
			base += span // replay the slab later in event time
		}
		t = ticks[j]
		t.TsEvent += base
		p.Process(&t)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
}

var sinkSum int64

// BenchmarkPartitionBaselineCopy is the floor the partition benchmark is
// compared with in the same run: the same tick slab, each tick copied out
// and two fields summed — the cost of touching the data and nothing more.
func BenchmarkPartitionBaselineCopy(b *testing.B) {
	ticks, _ := benchInput(b, 1<<20, Config{})
	b.ReportAllocs()
	b.ResetTimer()
	var t record.MarketTick
	var s int64
	for i := 0; i < b.N; i++ {
		t = ticks[i%len(ticks)]
		s += t.TsEvent + t.BidPx
	}
	sinkSum = s
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
}
