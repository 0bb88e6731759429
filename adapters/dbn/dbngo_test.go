package dbn

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	dbngo "github.com/NimbleMarkets/dbn-go"
)

// TestMatchesDbnGo decodes every v1 and v2 sample with dbn-go v0.6.0, an
// independent reader, and compares the metadata and every record field by
// field.
func TestMatchesDbnGo(t *testing.T) {
	for _, s := range samples {
		if s.version > 2 {
			continue // dbn-go v0.6.0 rejects v3
		}
		t.Run(s.file, func(t *testing.T) {
			data := decompressed(t, readShared(t, s.file))
			md, recs := decodeAll(t, data)
			n := compareWithDbnGo(t, data, md, recs)
			if n != s.records {
				t.Fatalf("dbn-go read %d records, want %d", n, s.records)
			}
		})
	}
}

// compareWithDbnGo checks md and recs against dbn-go's reading of data and
// returns how many records dbn-go read.
func compareWithDbnGo(t *testing.T, data []byte, md *Metadata, recs [][]byte) int {
	t.Helper()
	sc := dbngo.NewDbnScanner(bytes.NewReader(data))
	gm, err := sc.Metadata()
	if err != nil {
		t.Fatalf("dbn-go metadata: %v", err)
	}
	gotMeta := fmt.Sprintf("%d %s %d %d %d %d %d %d %v %d %q %q %q",
		md.Version, md.Dataset, md.Schema, md.Start, md.End, md.Limit, md.StypeIn, md.StypeOut,
		md.TsOut, md.SymbolCstrLen, md.Symbols, md.Partial, md.NotFound)
	wantMeta := fmt.Sprintf("%d %s %d %d %d %d %d %d %v %d %q %q %q",
		gm.VersionNum, gm.Dataset, gm.Schema, gm.Start, gm.End, gm.Limit, gm.StypeIn, gm.StypeOut,
		gm.TsOut != 0, gm.SymbolCstrLen, gm.Symbols, gm.Partial, gm.NotFound)
	if gotMeta != wantMeta {
		t.Fatalf("metadata\n got %s\nwant %s", gotMeta, wantMeta)
	}
	if len(md.Mappings) != len(gm.Mappings) {
		t.Fatalf("%d mappings, dbn-go %d", len(md.Mappings), len(gm.Mappings))
	}
	for i, m := range md.Mappings {
		g := gm.Mappings[i]
		if m.RawSymbol != g.RawSymbol || len(m.Intervals) != len(g.Intervals) {
			t.Fatalf("mapping %d: %+v, dbn-go %+v", i, m, g)
		}
		for j, iv := range m.Intervals {
			gi := g.Intervals[j]
			if iv != (MappingInterval{gi.StartDate, gi.EndDate, gi.Symbol}) {
				t.Fatalf("mapping %d interval %d: %+v, dbn-go %+v", i, j, iv, gi)
			}
		}
	}

	n := 0
	for ; sc.Next(); n++ {
		if n >= len(recs) {
			t.Fatalf("dbn-go reads more than our %d records", len(recs))
		}
		rec := recordOf(recs[n], md.Version, md.TsOut)
		gh, err := sc.GetLastHeader()
		if err != nil {
			t.Fatal(err)
		}
		h := rec.Header()
		if h != (Header{int(gh.Length) * 4, RType(gh.RType), gh.PublisherID, gh.InstrumentID, gh.TsEvent}) {
			t.Fatalf("record %d header %+v, dbn-go %+v", n, h, gh)
		}
		got, want := decodeBoth(t, sc, rec)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("record %d (%v)\n got %+v\nwant %+v", n, h.RType, got, want)
		}
	}
	if n != len(recs) {
		t.Fatalf("dbn-go read %d records, we read %d (dbn-go error %v)", n, len(recs), sc.Error())
	}
	return n
}

// decodeBoth decodes the current record with both readers into comparable
// values of the same shape.
func decodeBoth(t *testing.T, sc *dbngo.DbnScanner, rec Record) (got, want any) {
	t.Helper()
	must := func(ok bool, err error) {
		t.Helper()
		if !ok || err != nil {
			t.Fatalf("decode %v: ok %v err %v", rec.RType(), ok, err)
		}
	}
	level := func(p dbngo.BidAskPair) BidAskPair {
		return BidAskPair{p.BidPx, p.AskPx, p.BidSz, p.AskSz, p.BidCt, p.AskCt}
	}
	event := func(price int64, size uint32, action, side, flags, depth uint8, tsRecv uint64, delta int32, seq uint32) BookEvent {
		return BookEvent{rec.Header(), price, size, action, side, flags, depth, tsRecv, delta, seq}
	}
	switch rec.RType() {
	case RTypeMBO:
		var m MBOMsg
		ok := rec.MBO(&m)
		g, err := dbngo.DbnScannerDecode[dbngo.MboMsg](sc)
		must(ok, err)
		return m, MBOMsg{rec.Header(), g.OrderID, g.Price, g.Size, g.Flags, g.ChannelID, g.Action, g.Side, g.TsRecv, g.TsInDelta, g.Sequence}
	case RTypeMBP0:
		var m BookEvent
		ok := rec.Trade(&m)
		g, err := dbngo.DbnScannerDecode[dbngo.Mbp0Msg](sc)
		must(ok, err)
		return m, event(g.Price, g.Size, g.Action, g.Side, g.Flags, g.Depth, g.TsRecv, g.TsInDelta, g.Sequence)
	case RTypeMBP1:
		var m MBP1Msg
		ok := rec.MBP1(&m)
		g, err := dbngo.DbnScannerDecode[dbngo.Mbp1Msg](sc)
		must(ok, err)
		return m, MBP1Msg{event(g.Price, g.Size, g.Action, g.Side, g.Flags, g.Depth, g.TsRecv, g.TsInDelta, g.Sequence), level(g.Level)}
	case RTypeMBP10:
		var m MBP10Msg
		ok := rec.MBP10(&m)
		g, err := dbngo.DbnScannerDecode[dbngo.Mbp10Msg](sc)
		must(ok, err)
		w := MBP10Msg{BookEvent: event(g.Price, g.Size, g.Action, g.Side, g.Flags, g.Depth, g.TsRecv, g.TsInDelta, g.Sequence)}
		for i := range w.Levels {
			w.Levels[i] = level(g.Levels[i])
		}
		return m, w
	case RTypeInstrumentDef:
		var m InstrumentDefMsg
		ok := rec.InstrumentDef(&m)
		// dbn-go decodes every definition with the v2 layout and reads past
		// the end of a v1 record, so give it its whole scratch buffer and
		// compare v1 only on the fields v1 and v2 share offsets for.
		var g dbngo.InstrumentDefMsg
		must(ok, g.Fill_Raw(sc.GetLastRecord()))
		gs := []byte(dbngo.TrimNullBytes(g.RawSymbol[:]))
		type def struct {
			TsRecv, Expiration, Activation                        uint64
			MinPriceIncrement, DisplayFactor, HighLimit, LowLimit int64
			RawSymbol, Asset, SecurityType                        string
			InstrumentClass, SecurityUpdateAction                 byte
		}
		a := def{m.TsRecv, m.Expiration, m.Activation, m.MinPriceIncrement, m.DisplayFactor, m.HighLimitPrice, m.LowLimitPrice,
			string(m.RawSymbol), string(m.Asset), string(m.SecurityType), m.InstrumentClass, m.SecurityUpdateAction}
		b := def{g.TsRecv, g.Expiration, g.Activation, g.MinPriceIncrement, g.DisplayFactor, g.HighLimitPrice, g.LowLimitPrice,
			string(cstr(gs)), dbngo.TrimNullBytes(g.Asset[:]), dbngo.TrimNullBytes(g.SecurityType[:]), g.InstrumentClass, g.SecurityUpdateAction}
		if rec.ver == 1 {
			b.Asset, b.SecurityType, b.InstrumentClass, b.SecurityUpdateAction = a.Asset, a.SecurityType, a.InstrumentClass, a.SecurityUpdateAction
		} else if len(gs) != len(m.RawSymbol) {
			t.Fatalf("raw symbol %q, dbn-go %q", m.RawSymbol, gs)
		}
		return a, b
	}
	if rec.RType() == RTypeSymbolMapping {
		// dbn-go stores the stype_out byte in StypeIn and never sets
		// StypeOut, so compare symbols and times only.
		var m SymbolMappingMsg
		ok := rec.SymbolMapping(&m)
		g, err := sc.DecodeSymbolMappingMsg()
		must(ok, err)
		return [4]any{string(m.StypeInSymbol), string(m.StypeOutSymbol), m.StartTs, m.EndTs},
			[4]any{g.StypeInSymbol, g.StypeOutSymbol, g.StartTs, g.EndTs}
	}
	t.Fatalf("no comparison for rtype %v", rec.RType())
	return nil, nil
}
