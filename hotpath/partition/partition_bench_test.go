package partition

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"thunderline/hotpath/normalize"
	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
)

// benchFeed generates a market like the synthetic feed of adapters/ (which
// hotpath does not import): 64 symbols with Zipf-like activity, Poisson
// arrivals at 100,000 ticks/s of event time, mids walking by half ticks,
// one tick in ten a trade and the rest quotes at book levels 0 to 9.
type benchFeed struct {
	rng  *rand.Rand
	ts   int64
	cum  []float64 // cumulative activity weights
	ids  []uint32
	mids []int64 // in half ticks of 0.01
	seqs []uint64
}

func newBenchFeed(b testing.TB, syms *record.Symbols, n int) *benchFeed {
	f := &benchFeed{rng: rand.New(rand.NewPCG(7, 7)), ts: 1_704_205_800e9}
	total := 0.0
	for i := range n {
		id, err := syms.Intern(fmt.Sprintf("SYN%03d", i))
		if err != nil {
			b.Fatal(err)
		}
		total += 1 / math.Pow(float64(i+1), 1.1)
		f.cum, f.ids = append(f.cum, total), append(f.ids, id)
		f.mids, f.seqs = append(f.mids, 2*int64(2000+f.rng.IntN(500000))), append(f.seqs, 0)
	}
	for i := range f.cum {
		f.cum[i] /= total
	}
	return f
}

func (f *benchFeed) next(t *record.MarketTick) {
	f.ts += int64(f.rng.ExpFloat64() / 100_000 * 1e9)
	i := min(sort.SearchFloat64s(f.cum, f.rng.Float64()), len(f.cum)-1)
	f.seqs[i]++
	if f.rng.IntN(8) == 0 {
		f.mids[i] += int64(2*f.rng.IntN(2) - 1)
	}
	const tick = record.PriceScale / 100
	level := int64(0)
	for level < 9 && f.rng.IntN(3) == 0 {
		level++
	}
	lo, hi := f.mids[i]/2, (f.mids[i]+1)/2
	if lo == hi {
		lo, hi = lo-1, hi+1
	}
	*t = record.MarketTick{TsEvent: f.ts, TsRecv: f.ts + 20_000, Seq: f.seqs[i], Symbol: f.ids[i], Venue: 1,
		BidPx: (lo - level) * tick, AskPx: (hi + level) * tick, Depth: uint8(level), Kind: record.KindQuote,
		BidQty: uint32(1 + f.rng.IntN(50)), AskQty: uint32(1 + f.rng.IntN(50)), Flags: record.FlagMBP}
	if level == 0 {
		t.Flags |= record.FlagTOB
	}
	if f.rng.IntN(10) == 0 {
		*t = record.MarketTick{TsEvent: t.TsEvent, TsRecv: t.TsRecv, Seq: t.Seq, Symbol: t.Symbol, Venue: 1,
			Kind: record.KindTrade, Side: record.SideBid, TradePx: lo * tick, TradeQty: uint32(1 + f.rng.IntN(20))}
	}
}

// benchInput makes n ticks as one partition would see them: ingest
// sequence assigned and watermarks in band, through a real dispatcher.
func benchInput(b testing.TB, n int, cfg Config) ([]record.MarketTick, *record.Symbols) {
	syms := record.NewSymbols()
	feed := newBenchFeed(b, syms, 64)
	in, _ := ring.NewSPSC[record.MarketTick](1 << 22)
	wc := cfg.Window.WithDefaults()
	d, err := NewDispatcher([]*ring.SPSC[record.MarketTick]{in}, nil, wc.Step(), int64(wc.Lateness))
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]record.MarketTick, 1024)
	for got := 0; got < n; {
		k := min(len(buf), n-got)
		for i := range buf[:k] {
			feed.next(&buf[i])
		}
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
