package dbn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"thunderline/hotpath/record"
)

// ticksOf converts a whole stream with a dst of size slots.
func ticksOf(tb testing.TB, data []byte, syms *record.Symbols, opts SourceOptions, size int) ([]record.MarketTick, *Source) {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	s := NewSource(r, syms, opts)
	dst := make([]record.MarketTick, size)
	var out []record.MarketTick
	for {
		n, err := s.Next(dst)
		if err == io.EOF {
			if n != 0 {
				tb.Fatalf("io.EOF with %d ticks", n)
			}
			return out, s
		}
		if err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			tb.Fatal("no ticks and no error")
		}
		out = append(out, dst[:n]...)
	}
}

func TestSourceMapping(t *testing.T) {
	const undef = record.UndefPrice
	recs := sampleRecords()
	// A trade of an instrument nothing names, one named by the symbol
	// mapping record above (200), one named by a definition (300) and one
	// on day 2, when the metadata maps 100 to ESM4.
	recs = append(recs,
		&BookEvent{Header: Header{PublisherID: 2, InstrumentID: 999, TsEvent: tsDay1 + 6}, Price: 1e9, Size: 1, Action: 'T', Side: 'B', Sequence: 7},
		&BookEvent{Header: hdr(200, tsDay1+7), Price: 2e9, Size: 2, Action: 'T', Side: 'A', Sequence: 8},
		definitionRecord(3, 1, 300, tsDay1+8, "CLG4"),
		&BookEvent{Header: hdr(300, tsDay1+9), Price: 3e9, Size: 3, Action: 'T', Side: 'A', Sequence: 9},
		&MBOMsg{Header: hdr(100, tsDay2), OrderID: 9, Price: 4800e9, Size: 4, Action: 'F', Side: 'A', TsRecv: tsDay2 + 1, Sequence: 10},
		&MBOMsg{Header: hdr(100, tsDay2+1), OrderID: 10, Price: 4800e9, Size: 4, Action: 'T', Side: 'B', TsRecv: tsDay2 + 2, Sequence: 11},
	)
	data := writeStream(t, testMetadata(3), false, recs...)
	syms := record.NewSymbols()
	ticks, src := ticksOf(t, data, syms, SourceOptions{}, MaxTicksPerRecord)
	id := func(name string) uint32 {
		v := syms.Lookup(name)
		if v == 0 {
			t.Fatalf("%q not interned", name)
		}
		return v
	}
	esh4, esm4, nq, cl, fb := id("ESH4"), id("ESM4"), id("NQH4"), id("CLG4"), id("2:999")

	m10 := recs[5].(*MBP10Msg)
	var want []record.MarketTick
	want = append(want,
		record.MarketTick{Kind: record.KindOrder, TsEvent: tsDay1, TsRecv: tsDay1 + 100, Seq: 1, OrderID: 1 << 40, Price: 4700250000000, Size: 5,
			Symbol: esh4, Venue: 1, Flags: record.FlagLast, Action: 'A', Side: 'B'},
		record.MarketTick{Kind: record.KindClear, TsEvent: tsDay1 + 1, TsRecv: 0, Seq: 2, OrderID: 2, Price: undef,
			Symbol: esh4, Venue: 1, Flags: record.FlagBadTsRecv, Action: 'R', Side: 'N'},
		record.MarketTick{Kind: record.KindTrade, TsEvent: tsDay1 + 2, TsRecv: tsDay1 + 3, Seq: 1<<32 - 1, TradePx: -5e9, TradeQty: 1 << 31,
			Symbol: esh4, Venue: 1, Flags: 0x81 | record.FlagHasTrade, Action: 'T', Side: 'N'},
		// 101 on day 1 is in no interval: fallback name.
		record.MarketTick{Kind: record.KindQuote, TsEvent: tsDay1 + 3, TsRecv: tsDay1 + 4, Seq: 3, BidPx: 4700e9, AskPx: 4701e9, BidQty: 10, AskQty: 20,
			Symbol: id("1:101"), Venue: 1, Flags: record.FlagTOB, Action: 'A', Side: 'A'},
	)
	for i, l := range m10.Levels {
		f := uint16(0)
		if i == 9 {
			f = record.FlagLast
		}
		want = append(want, record.MarketTick{Kind: record.KindQuote, TsEvent: tsDay1 + 5, TsRecv: tsDay1 + 9, Seq: 44,
			BidPx: l.BidPx, AskPx: l.AskPx, BidQty: l.BidSz, AskQty: l.AskSz, Symbol: esh4, Venue: 1, Flags: f, Action: 'T', Side: 'A', Depth: uint8(i)})
	}
	want = append(want,
		record.MarketTick{Kind: record.KindTrade, TsEvent: tsDay1 + 5, TsRecv: tsDay1 + 9, Seq: 44, TradePx: 4700e9, TradeQty: 3,
			Symbol: esh4, Venue: 1, Flags: record.FlagLast | record.FlagHasTrade, Action: 'T', Side: 'A'},
		record.MarketTick{Kind: record.KindTrade, TsEvent: tsDay1 + 6, Seq: 7, TradePx: 1e9, TradeQty: 1,
			Symbol: fb, Venue: 2, Flags: record.FlagHasTrade, Action: 'T', Side: 'B'},
		record.MarketTick{Kind: record.KindTrade, TsEvent: tsDay1 + 7, Seq: 8, TradePx: 2e9, TradeQty: 2,
			Symbol: nq, Venue: 1, Flags: record.FlagHasTrade, Action: 'T', Side: 'A'},
		record.MarketTick{Kind: record.KindTrade, TsEvent: tsDay1 + 9, Seq: 9, TradePx: 3e9, TradeQty: 3,
			Symbol: cl, Venue: 1, Flags: record.FlagHasTrade, Action: 'T', Side: 'A'},
		record.MarketTick{Kind: record.KindOrder, TsEvent: tsDay2, TsRecv: tsDay2 + 1, Seq: 10, OrderID: 9, Price: 4800e9, Size: 4,
			TradePx: 4800e9, TradeQty: 4, Symbol: esm4, Venue: 1, Flags: record.FlagHasTrade, Action: 'F', Side: 'A'},
		record.MarketTick{Kind: record.KindOrder, TsEvent: tsDay2 + 1, TsRecv: tsDay2 + 2, Seq: 11, OrderID: 10, Price: 4800e9, Size: 4,
			TradePx: 4800e9, TradeQty: 4, Symbol: esm4, Venue: 1, Flags: record.FlagHasTrade, Action: 'T', Side: 'B'},
	)
	if len(ticks) != len(want) {
		t.Fatalf("%d ticks, want %d", len(ticks), len(want))
	}
	for i := range want {
		if ticks[i] != want[i] {
			t.Fatalf("tick %d\n got %+v\nwant %+v", i, ticks[i], want[i])
		}
	}
	c := src.RecordCounts()
	if c.Total != 12 || c.Market != 10 || c.Skipped != 2 || c.Ticks != uint64(len(want)) ||
		c.ByRType[RTypeSymbolMapping] != 1 || c.ByRType[RTypeInstrumentDef] != 1 || c.ByRType[RTypeMBO] != 4 {
		t.Fatalf("counts %+v", c)
	}

	// The same stream with other dst sizes gives the same ticks.
	for _, size := range []int{12, 13, 20, 1000} {
		got, _ := ticksOf(t, data, syms, SourceOptions{}, size)
		if !reflect.DeepEqual(got, ticks) {
			t.Fatalf("dst of %d gives other ticks", size)
		}
	}

	// Strict: the unnamed instruments get symbol 0, the rest is unchanged.
	strictSyms := record.NewSymbols()
	strict, _ := ticksOf(t, data, strictSyms, SourceOptions{Strict: true}, 64)
	if strict[3].Symbol != 0 || strict[15].Symbol != 0 || strictSyms.Lookup("2:999") != 0 ||
		strictSyms.Name(strict[0].Symbol) != "ESH4" || strictSyms.Name(strict[17].Symbol) != "CLG4" {
		t.Fatalf("strict symbols: %d %d %q %q", strict[3].Symbol, strict[15].Symbol,
			strictSyms.Name(strict[0].Symbol), strictSyms.Name(strict[17].Symbol))
	}
}

// TestSourceWholeRecords checks that a record never spans two calls.
func TestSourceWholeRecords(t *testing.T) {
	recs := sampleRecords()
	data := writeStream(t, testMetadata(2), false, recs[0], recs[5], recs[0], recs[5])
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSource(r, record.NewSymbols(), SourceOptions{})
	dst := make([]record.MarketTick, MaxTicksPerRecord)
	for i, want := range []int{1, 11, 1, 11, 0} {
		n, err := s.Next(dst)
		if n != want || (want == 0) != (err == io.EOF) {
			t.Fatalf("call %d: %d ticks, %v; want %d", i, n, err, want)
		}
	}
}

// TestSourceErrorAfterTicks: an error that stops a call with ticks is
// returned by the next call.
func TestSourceErrorAfterTicks(t *testing.T) {
	data := readShared(t, "test_data.mbo.dbn")
	data = data[:len(data)-5]
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSource(r, record.NewSymbols(), SourceOptions{})
	dst := make([]record.MarketTick, 64)
	if n, err := s.Next(dst); n != 1 || err != nil {
		t.Fatalf("first call: %d, %v", n, err)
	}
	if n, err := s.Next(dst); n != 0 || !errors.Is(err, ErrTruncated) {
		t.Fatalf("second call: %d, %v", n, err)
	}
}

func TestSourceInverseAndParentMappings(t *testing.T) {
	trade := &BookEvent{Header: hdr(100, tsDay1), Price: 1e9, Size: 1, Action: 'T', Side: 'B'}
	md := testMetadata(3)
	md.StypeIn, md.StypeOut = STypeInstrumentID, STypeRawSymbol
	md.Mappings = []SymbolMapping{{RawSymbol: "100", Intervals: []MappingInterval{{20240101, 20240102, "ESH4"}}}}
	syms := record.NewSymbols()
	ticks, _ := ticksOf(t, writeStream(t, md, false, trade), syms, SourceOptions{}, 16)
	if syms.Name(ticks[0].Symbol) != "ESH4" {
		t.Fatalf("inverse mapping gives %q", syms.Name(ticks[0].Symbol))
	}
	md = testMetadata(3)
	md.StypeIn = STypeParent
	md.Mappings = []SymbolMapping{{RawSymbol: "ES.FUT", Intervals: []MappingInterval{{20240101, 20240102, "100"}, {20240101, 20240102, "101"}}}}
	ticks, _ = ticksOf(t, writeStream(t, md, false, trade), syms, SourceOptions{}, 16)
	if syms.Name(ticks[0].Symbol) != "1:100" {
		t.Fatalf("parent mapping gives %q", syms.Name(ticks[0].Symbol))
	}
}

// TestSourceSamples converts every real file and checks tick counts, kinds
// and symbol names.
func TestSourceSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			wantName := "ESU4"
			switch {
			case strings.HasPrefix(s.file, "test_data."):
				wantName = "ESH1"
			case strings.HasPrefix(s.file, "esh4"):
				wantName = "ESH4"
			}
			data := readShared(t, s.file)
			_, recs := decodeAll(t, decompressed(t, data))
			trades := 0
			for _, b := range recs {
				if b[1] != byte(RTypeMBO) && b[1] != byte(RTypeInstrumentDef) && b[28] == 'T' {
					trades++
				}
			}
			want := map[record.Kind]int{}
			switch s.rtype {
			case RTypeMBO:
				want[record.KindOrder] = len(recs) // no clears in these files
			case RTypeMBP0:
				want[record.KindTrade] = len(recs)
			case RTypeMBP1:
				want[record.KindQuote], want[record.KindTrade] = len(recs), trades
			case RTypeMBP10:
				want[record.KindQuote], want[record.KindTrade] = 10*len(recs), trades
			}
			syms := record.NewSymbols()
			ticks, src := ticksOf(t, data, syms, SourceOptions{Strict: true}, 256)
			got := map[record.Kind]int{}
			for _, tk := range ticks {
				got[tk.Kind]++
				if name := syms.Name(tk.Symbol); name != wantName {
					t.Fatalf("symbol %q, want %q", name, wantName)
				}
				if tk.Venue != 1 || tk.TsEvent <= 0 || tk.TsRecv < tk.TsEvent || tk.InSeq != 0 {
					t.Fatalf("tick %+v", tk)
				}
			}
			for k, n := range want {
				if n == 0 {
					delete(want, k)
				}
			}
			if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("ticks by kind %v, want %v", got, want)
			}
			if c := src.RecordCounts(); c.Total != uint64(s.records) || c.Ticks != uint64(len(ticks)) {
				t.Fatalf("counts %+v", c)
			}
		})
	}
}

// TestSourceAllocs proves conversion allocates nothing per record once the
// instrument is interned.
func TestSourceAllocs(t *testing.T) {
	for _, file := range []string{esh4File, "futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"} {
		r, err := NewReader(bytes.NewReader(decompressed(t, readShared(t, file))))
		if err != nil {
			t.Fatal(err)
		}
		s := NewSource(r, record.NewSymbols(), SourceOptions{})
		dst := make([]record.MarketTick, 32)
		if _, err := s.Next(dst); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(50, func() {
			if n, err := s.Next(dst); err != nil || n == 0 {
				t.Fatal(n, err)
			}
		})
		if allocs != 0 {
			t.Fatalf("%s: %.2f allocs per call", file, allocs)
		}
	}
}

// TestV1MappingAndMessages builds a v1 stream: the ESH4 metadata, a v1
// symbol mapping record, a v1 system record, then an MBO record of the file.
// The stream's mapping wins over the metadata's.
func TestV1MappingAndMessages(t *testing.T) {
	data := decompressed(t, readShared(t, esh4File))
	metaEnd := prefixLen + int(binary.LittleEndian.Uint32(data[4:]))
	mapping := make([]byte, 80)
	mapping[0], mapping[1] = 80/4, byte(RTypeSymbolMapping)
	binary.LittleEndian.PutUint16(mapping[2:], 1)
	binary.LittleEndian.PutUint32(mapping[4:], 17077)
	copy(mapping[16:], "ES.c.0")
	copy(mapping[38:], "ESH4-STREAM")
	binary.LittleEndian.PutUint64(mapping[64:], 11)
	binary.LittleEndian.PutUint64(mapping[72:], 22)
	system := make([]byte, 80)
	system[0], system[1] = 80/4, byte(RTypeSystem)
	copy(system[16:], "Heartbeat")
	stream := append(append(append(bytes.Clone(data[:metaEnd]), mapping...), system...), data[metaEnd:metaEnd+mboLen]...)

	r, err := NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := r.Next()
	var m SymbolMappingMsg
	if !rec.SymbolMapping(&m) || string(m.StypeInSymbol) != "ES.c.0" || string(m.StypeOutSymbol) != "ESH4-STREAM" ||
		m.StartTs != 11 || m.EndTs != 22 || m.StypeIn != STypeUnknown || m.InstrumentID != 17077 {
		t.Fatalf("v1 mapping %+v", m)
	}
	rec, _ = r.Next()
	if text, ok := rec.Message(); !ok || string(text) != "Heartbeat" {
		t.Fatalf("system text %q %v", text, ok)
	}

	syms := record.NewSymbols()
	ticks, src := ticksOf(t, stream, syms, SourceOptions{Strict: true}, 16)
	if len(ticks) != 1 || syms.Name(ticks[0].Symbol) != "ESH4-STREAM" {
		t.Fatalf("ticks %+v", ticks)
	}
	if c := src.RecordCounts(); c.Skipped != 2 || c.Market != 1 || c.ByRType[RTypeSystem] != 1 {
		t.Fatalf("counts %+v", c)
	}
}
