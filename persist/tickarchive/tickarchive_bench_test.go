package tickarchive

import (
	"cmp"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"

	"thunderline/hotpath/record"
)

// benchTicks are n ticks of four symbols as the shipper meets them in a
// journal: input order, symbols interleaved, a fifth of them orders.
func benchTicks(n int) ([]record.MarketTick, []string) {
	rng := rand.New(rand.NewPCG(7, 1))
	ticks := make([]record.MarketTick, n)
	for i := range ticks {
		t := record.MarketTick{TsEvent: 1_700_000_000e9 + int64(i)*1000 + int64(rng.IntN(500)), TsRecv: 1_700_000_000e9 + int64(i)*1000 + 900,
			Seq: uint64(i), InSeq: uint64(i + 1), Kind: record.KindQuote, BidPx: 5000e9 + int64(rng.IntN(100))*25e7, AskPx: 5001e9,
			BidQty: uint32(rng.IntN(50)), AskQty: 7, Venue: 1, Flags: record.FlagLast, Symbol: uint32(rng.IntN(4))}
		if i%5 == 0 {
			t.Kind, t.Action, t.Side, t.OrderID, t.Price, t.Size = record.KindOrder, record.ActionAdd, record.SideBid, uint64(i), 4999e9, 3
		}
		ticks[i] = t
	}
	return ticks, []string{"ESH4", "NQH4", "AAPL", "MSFT"}
}

// BenchmarkWrite: one archive file of 262,144 journal ticks (the shipper's
// default file_records) against plain copies of the same ticks in the same
// run: "copy" appends each tick's journal encoding (record.AppendTick) to a
// reused buffer, "copy+zstd" compresses that buffer too (what the journal
// does, with zstd instead of s2). Compare ns/op across the sub-benchmarks:
// the ratio is the archive's write throughput against a plain copy.
func BenchmarkWrite(b *testing.B) {
	const n = 262_144
	ticks, names := benchTicks(n)
	b.Run("parquet", func(b *testing.B) {
		var w Writer
		var f File
		file := func() {
			w.Reset()
			for i := range ticks {
				w.Add("acme", names[ticks[i].Symbol], uint64(i), &ticks[i])
			}
			var err error
			if f, err = w.WriteFile(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		file() // a shipper reuses its Writer: its buffers are grown
		b.SetBytes(n * record.TickSize)
		b.ReportAllocs()
		for b.Loop() {
			file()
		}
		b.ReportMetric(float64(f.Bytes)/n, "file-B/tick")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
	})
	b.Run("copy", func(b *testing.B) {
		buf := make([]byte, 0, n*record.TickSize)
		b.SetBytes(n * record.TickSize)
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			for i := range ticks {
				buf = record.AppendTick(buf, &ticks[i])
			}
			io.Discard.Write(buf)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
	})
	b.Run("copy+zstd", func(b *testing.B) {
		buf := make([]byte, 0, n*record.TickSize)
		enc, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		var out []byte
		b.SetBytes(n * record.TickSize)
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			for i := range ticks {
				buf = record.AppendTick(buf, &ticks[i])
			}
			out = enc.EncodeAll(buf, out[:0])
		}
		b.ReportMetric(float64(len(out))/n, "file-B/tick")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
	})
}

// BenchmarkSort: the Writer's sort (a stable counting sort by symbol, each
// symbol's ticks checked for time order) against slices.SortFunc over the
// rows by (symbol, event time, journal offset), the same 262,144 ticks in
// journal order, in the same run.
func BenchmarkSort(b *testing.B) {
	const n = 262_144
	ticks, names := benchTicks(n)
	var w Writer
	for i := range ticks {
		w.Add("acme", names[ticks[i].Symbol], uint64(i), &ticks[i])
	}
	orig := slices.Clone(w.rows)
	b.Run("counting", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			copy(w.rows, orig)
			w.sort()
		}
	})
	b.Run("sortfunc", func(b *testing.B) {
		rows := slices.Clone(orig)
		b.ReportAllocs()
		for b.Loop() {
			copy(rows, orig)
			slices.SortFunc(rows, func(a, b Row) int {
				return cmp.Or(cmp.Compare(a.Symbol, b.Symbol), cmp.Compare(a.TsEvent, b.TsEvent), cmp.Compare(a.JournalOffset, b.JournalOffset))
			})
		}
	})
}
