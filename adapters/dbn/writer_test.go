package dbn

import (
	"bytes"
	"encoding/binary"
	"io"
	"reflect"
	"testing"

	"github.com/klauspost/compress/zstd"
)

const (
	tsDay1 = 1704103200000000000 // 2024-01-01T10:00:00Z
	tsDay2 = tsDay1 + 24*3600*1e9
)

func testMetadata(version uint8) Metadata {
	return Metadata{
		Version: version, Dataset: "GLBX.MDP3", Schema: SchemaMixed,
		Start: tsDay1, End: tsDay2 + 3600e9, StypeIn: STypeRawSymbol, StypeOut: STypeInstrumentID,
		Symbols: []string{"ESH4", "ESM4"}, NotFound: []string{"XXZ9"},
		Mappings: []SymbolMapping{
			{RawSymbol: "ESH4", Intervals: []MappingInterval{{20240101, 20240102, "100"}}},
			{RawSymbol: "ESM4", Intervals: []MappingInterval{{20240102, 20240103, "100"}, {20240103, 20240104, "101"}}},
		},
	}
}

// writeStream writes md and the records (*MBOMsg, *BookEvent, *MBP1Msg,
// *MBP10Msg, *SymbolMappingMsg, or raw []byte appended as is) and returns
// the stream, zstd-compressed if compress is set.
func writeStream(tb testing.TB, md Metadata, compress bool, recs ...any) []byte {
	tb.Helper()
	var out bytes.Buffer
	var dst io.Writer = &out
	var enc *zstd.Encoder
	if compress {
		var err error
		if enc, err = zstd.NewWriter(&out); err != nil {
			tb.Fatal(err)
		}
		dst = enc
	}
	w, err := NewWriter(dst, md)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range recs {
		switch m := r.(type) {
		case *MBOMsg:
			err = w.WriteMBO(m)
		case *BookEvent:
			err = w.WriteTrade(m)
		case *MBP1Msg:
			err = w.WriteMBP1(m)
		case *MBP10Msg:
			err = w.WriteMBP10(m)
		case *SymbolMappingMsg:
			err = w.WriteSymbolMapping(m)
		case []byte:
			if err = w.Flush(); err == nil {
				_, err = dst.Write(m)
			}
		default:
			tb.Fatalf("unknown record %T", r)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return out.Bytes()
}

// definitionRecord returns a raw instrument definition of version v.
func definitionRecord(v uint8, publisher uint16, iid uint32, ts uint64, rawSymbol string) []byte {
	b := make([]byte, recordLen(v, RTypeInstrumentDef))
	b[0], b[1] = byte(len(b)/4), byte(RTypeInstrumentDef)
	binary.LittleEndian.PutUint16(b[2:], publisher)
	binary.LittleEndian.PutUint32(b[4:], iid)
	binary.LittleEndian.PutUint64(b[8:], ts)
	l := defLayouts[v]
	copy(b[l.rawSym:l.rawSym+l.rawSymLen-1], rawSymbol)
	b[l.class], b[l.action] = 'F', 'A'
	return b
}

func hdr(iid uint32, ts uint64) Header { return Header{PublisherID: 1, InstrumentID: iid, TsEvent: ts} }

func sampleRecords() []any {
	lv := func(i int) BidAskPair {
		return BidAskPair{BidPx: int64(4700-i) * 1e9, AskPx: int64(4701+i) * 1e9, BidSz: uint32(10 + i), AskSz: uint32(20 + i), BidCt: uint32(i), AskCt: uint32(2 * i)}
	}
	m10 := &MBP10Msg{BookEvent: BookEvent{Header: hdr(100, tsDay1+5), Price: 4700e9, Size: 3, Action: 'T', Side: 'A', Flags: 0x80, Depth: 0, TsRecv: tsDay1 + 9, TsInDelta: -7, Sequence: 44}}
	for i := range m10.Levels {
		m10.Levels[i] = lv(i)
	}
	return []any{
		&MBOMsg{Header: hdr(100, tsDay1), OrderID: 1 << 40, Price: 4700250000000, Size: 5, Flags: 0x80, ChannelID: 3, Action: 'A', Side: 'B', TsRecv: tsDay1 + 100, TsInDelta: 1234, Sequence: 1},
		&MBOMsg{Header: hdr(100, tsDay1+1), OrderID: 2, Price: 1<<63 - 1, Size: 0, Flags: 0x08, Action: 'R', Side: 'N', TsRecv: 1<<64 - 1, Sequence: 2},
		&BookEvent{Header: hdr(100, tsDay1+2), Price: -5e9, Size: 1 << 31, Action: 'T', Side: 'N', Flags: 0x81, TsRecv: tsDay1 + 3, TsInDelta: 9, Sequence: 1<<32 - 1},
		&MBP1Msg{BookEvent: BookEvent{Header: hdr(101, tsDay1+3), Price: 4701e9, Size: 2, Action: 'A', Side: 'A', Flags: 0x40, TsRecv: tsDay1 + 4, Sequence: 3}, Level: lv(0)},
		&SymbolMappingMsg{Header: hdr(200, tsDay1+4), StypeIn: STypeContinuous, StypeInSymbol: []byte("NQ.c.0"), StypeOut: STypeRawSymbol, StypeOutSymbol: []byte("NQH4"), StartTs: tsDay1, EndTs: tsDay2},
		m10,
	}
}

// wantLen is the length the writer gives each rtype of sampleRecords.
var wantLen = map[RType]int{RTypeMBO: mboLen, RTypeMBP0: mbp0Len, RTypeMBP1: mbp1Len, RTypeMBP10: mbp10Len, RTypeSymbolMapping: 176}

// TestWriterRoundTrip writes v2 and v3 streams, plain and compressed, and
// reads them back: with this Reader, and for v2 with dbn-go.
func TestWriterRoundTrip(t *testing.T) {
	for _, v := range []uint8{2, 3} {
		for _, compress := range []bool{false, true} {
			md := testMetadata(v)
			in := sampleRecords()
			data := writeStream(t, md, compress, in...)
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want := md
			want.SymbolCstrLen = 71
			if !reflect.DeepEqual(*r.Metadata(), want) {
				t.Fatalf("v%d metadata\n got %+v\nwant %+v", v, *r.Metadata(), want)
			}
			for i, w := range in {
				rec, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				got, ok := decodeRecord(rec)
				// The writer sets each record's rtype and length.
				wv := reflect.ValueOf(w).Elem()
				h := wv.FieldByName("Header").Addr().Interface().(*Header)
				h.RType, h.Length = rec.RType(), wantLen[rec.RType()]
				if !ok || !reflect.DeepEqual(got, wv.Interface()) {
					t.Fatalf("v%d record %d\n got %+v\nwant %+v", v, i, got, wv)
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("want io.EOF, got %v", err)
			}
			if v == 2 && !compress {
				rmd, recs := decodeAll(t, data)
				compareWithDbnGo(t, data, rmd, recs)
			}
		}
	}
}

func TestWriterRejects(t *testing.T) {
	var buf bytes.Buffer
	for _, md := range []Metadata{
		{Version: 1},
		{Version: 4},
		{Version: 2, Dataset: "A.VERY.LONG.DATASET.NAME"},
		{Version: 3, Symbols: []string{string(make([]byte, 71))}},
	} {
		if _, err := NewWriter(&buf, md); err == nil {
			t.Fatalf("metadata %+v accepted", md)
		}
	}
}

// synthMBO returns a DBN stream of n MBO records over a few instruments,
// shaped like a real session: adds, cancels, modifies and fills.
func synthMBO(tb testing.TB, version uint8, n int) []byte {
	tb.Helper()
	md := testMetadata(version)
	md.Schema = SchemaMBO
	var out bytes.Buffer
	w, err := NewWriter(&out, md)
	if err != nil {
		tb.Fatal(err)
	}
	actions := []byte("AAACMCTFA")
	seed := uint64(1)
	for i := range n {
		seed = seed*6364136223846793005 + 1442695040888963407
		m := MBOMsg{
			Header:  hdr(100+uint32(seed>>60)%2, tsDay1+uint64(i)*1000),
			OrderID: uint64(i/3 + 1), Price: 4700e9 + int64(seed>>56)*250e6, Size: uint32(seed>>59) + 1,
			Flags: 0x80, Action: actions[seed>>33%uint64(len(actions))], Side: "AB"[seed>>40&1],
			TsRecv: tsDay1 + uint64(i)*1000 + 500, TsInDelta: 300, Sequence: uint32(i + 1),
		}
		if err := w.WriteMBO(&m); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func TestSynthMBOMatchesDbnGo(t *testing.T) {
	data := synthMBO(t, 2, 5000)
	md, recs := decodeAll(t, data)
	if n := compareWithDbnGo(t, data, md, recs); n != 5000 {
		t.Fatalf("%d records", n)
	}
}
