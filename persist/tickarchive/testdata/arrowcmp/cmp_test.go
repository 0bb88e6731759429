// Package arrowcmp compares arrow-go v18.9.0 (pqarrow) with parquet-go
// v0.32.1 (thunderline/persist/tickarchive) writing the same archive file:
// the same ticks, sorted by symbol then time, a row group per symbol, zstd,
// dictionaries on the same string columns. Its own module (arrow-go is not
// a dependency of Thunderline), under testdata so the main module ignores
// it. Run: cd persist/tickarchive/testdata/arrowcmp && go test -bench . -benchtime 5x -count 3
package arrowcmp

import (
	"cmp"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"thunderline/hotpath/record"
	"thunderline/persist/tickarchive"
)

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

type countW struct{ n int64 }

func (c *countW) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

const n = 262_144

func BenchmarkArchive(b *testing.B) {
	ticks, names := benchTicks(n)
	b.Run("parquet-go", func(b *testing.B) {
		var w tickarchive.Writer
		var f tickarchive.File
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
		file()
		b.ReportAllocs()
		for b.Loop() {
			file()
		}
		b.ReportMetric(float64(f.Bytes)/n, "file-B/tick")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
	})
	b.Run("arrow-go", func(b *testing.B) {
		i64 := arrow.PrimitiveTypes.Int64
		i32 := arrow.PrimitiveTypes.Int32
		str := arrow.BinaryTypes.String
		fields := []arrow.Field{{Name: "tenant", Type: str}, {Name: "symbol", Type: str}, {Name: "ts_event", Type: i64}, {Name: "ts_recv", Type: i64},
			{Name: "journal_offset", Type: i64}, {Name: "in_seq", Type: i64}, {Name: "seq", Type: i64}, {Name: "kind", Type: str},
			{Name: "action", Type: str}, {Name: "side", Type: str}, {Name: "depth", Type: i32}, {Name: "bid_px", Type: i64},
			{Name: "ask_px", Type: i64}, {Name: "trade_px", Type: i64}, {Name: "price", Type: i64}, {Name: "bid_qty", Type: i64},
			{Name: "ask_qty", Type: i64}, {Name: "trade_qty", Type: i64}, {Name: "size", Type: i64}, {Name: "order_id", Type: i64},
			{Name: "venue", Type: i32}, {Name: "flags", Type: i32}}
		schema := arrow.NewSchema(fields, nil)
		mem := memory.NewGoAllocator()
		bld := array.NewRecordBuilder(mem, schema)
		defer bld.Release()
		props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(false),
			parquet.WithDictionaryFor("tenant", true), parquet.WithDictionaryFor("symbol", true), parquet.WithDictionaryFor("kind", true),
			parquet.WithDictionaryFor("action", true), parquet.WithDictionaryFor("side", true), parquet.WithMaxRowGroupLength(64<<10))
		var rows []tickarchive.Row
		var size int64
		file := func() {
			// the same rows in the same order as tickarchive writes them
			rows = rows[:0]
			for i := range ticks {
				rows = append(rows, tickarchive.FromTick("acme", names[ticks[i].Symbol], uint64(i), &ticks[i]))
			}
			sortRows(rows)
			cw := &countW{}
			fw, err := pqarrow.NewFileWriter(schema, cw, props, pqarrow.DefaultWriterProps())
			if err != nil {
				b.Fatal(err)
			}
			for lo := 0; lo < len(rows); {
				hi := lo + 1
				for hi < len(rows) && rows[hi].Symbol == rows[lo].Symbol {
					hi++
				}
				for _, r := range rows[lo:hi] {
					bld.Field(0).(*array.StringBuilder).Append(r.Tenant)
					bld.Field(1).(*array.StringBuilder).Append(r.Symbol)
					bld.Field(2).(*array.Int64Builder).Append(r.TsEvent)
					bld.Field(3).(*array.Int64Builder).Append(r.TsRecv)
					bld.Field(4).(*array.Int64Builder).Append(r.JournalOffset)
					bld.Field(5).(*array.Int64Builder).Append(r.InSeq)
					bld.Field(6).(*array.Int64Builder).Append(r.Seq)
					bld.Field(7).(*array.StringBuilder).Append(r.Kind)
					bld.Field(8).(*array.StringBuilder).Append(r.Action)
					bld.Field(9).(*array.StringBuilder).Append(r.Side)
					bld.Field(10).(*array.Int32Builder).Append(r.Depth)
					bld.Field(11).(*array.Int64Builder).Append(r.BidPx)
					bld.Field(12).(*array.Int64Builder).Append(r.AskPx)
					bld.Field(13).(*array.Int64Builder).Append(r.TradePx)
					bld.Field(14).(*array.Int64Builder).Append(r.Price)
					bld.Field(15).(*array.Int64Builder).Append(r.BidQty)
					bld.Field(16).(*array.Int64Builder).Append(r.AskQty)
					bld.Field(17).(*array.Int64Builder).Append(r.TradeQty)
					bld.Field(18).(*array.Int64Builder).Append(r.Size)
					bld.Field(19).(*array.Int64Builder).Append(r.OrderID)
					bld.Field(20).(*array.Int32Builder).Append(r.Venue)
					bld.Field(21).(*array.Int32Builder).Append(r.Flags)
				}
				rec := bld.NewRecordBatch()
				if err := fw.Write(rec); err != nil { // a row group per symbol (cut at 64 Ki rows)
					b.Fatal(err)
				}
				rec.Release()

				lo = hi
			}
			if err := fw.Close(); err != nil {
				b.Fatal(err)
			}
			size = cw.n
		}
		file()
		b.ReportAllocs()
		for b.Loop() {
			file()
		}
		b.ReportMetric(float64(size)/n, "file-B/tick")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ticks/s")
	})
}

// sortRows puts rows (each symbol's in time order already) in the
// archive's order: a stable sort by symbol.
func sortRows(rows []tickarchive.Row) {
	slices.SortStableFunc(rows, func(a, b tickarchive.Row) int { return cmp.Compare(a.Symbol, b.Symbol) })
}
