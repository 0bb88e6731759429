package dbn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSamples decodes every shared file, straight from its stored (maybe
// compressed) bytes, and checks the metadata and the record counts.
func TestSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			data := readShared(t, s.file)
			if strings.HasPrefix(s.file, "test_data.") {
				local, err := os.ReadFile(filepath.Join("testdata", s.file))
				if err != nil || !bytes.Equal(local, data) {
					t.Fatalf("testdata/%s must be a copy of the shared file (err %v)", s.file, err)
				}
			}
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			md := r.Metadata()
			if md.Version != s.version || md.Schema != s.schema {
				t.Fatalf("version %d schema %d, want %d %d", md.Version, md.Schema, s.version, s.schema)
			}
			wantCstr := uint16(71)
			if s.version == 1 {
				wantCstr = 22
			}
			if md.SymbolCstrLen != wantCstr || md.TsOut || md.StypeIn != STypeRawSymbol || md.StypeOut != STypeInstrumentID {
				t.Fatalf("metadata %+v", md)
			}
			if len(md.Symbols) == 0 || len(md.Mappings) != len(md.Symbols) {
				t.Fatalf("symbols %v, %d mappings", md.Symbols, len(md.Mappings))
			}
			n, err := drain(r, func(i int, rec Record) error {
				if rec.RType() != s.rtype {
					return fmt.Errorf("record %d: rtype %v, want %v", i, rec.RType(), s.rtype)
				}
				return nil
			})
			if err != nil || n != s.records {
				t.Fatalf("%d records, want %d: %v", n, s.records, err)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("after the end: %v, want io.EOF again", err)
			}
			c := r.Counts()
			if c.Total != uint64(n) || c.ByRType[s.rtype] != uint64(n) || c.Unknown != 0 {
				t.Fatalf("counts %+v", c)
			}
			if s.rtype.IsMarket() && c.Market != uint64(n) || !s.rtype.IsMarket() && c.Skipped != uint64(n) {
				t.Fatalf("market %d skipped %d", c.Market, c.Skipped)
			}
		})
	}
}

// TestSampleMetadata pins metadata fields of one file per version.
func TestSampleMetadata(t *testing.T) {
	md, _ := decodeAll(t, decompressed(t, readShared(t, esh4File)))
	want := Metadata{
		Version: 1, Dataset: "GLBX.MDP3", Schema: SchemaMBO,
		Start: 1703376000000000000, End: 1703462400000000000, RecordCount: 1<<64 - 1,
		StypeIn: STypeRawSymbol, StypeOut: STypeInstrumentID, SymbolCstrLen: 22,
		Symbols:  []string{"ESH4"},
		Mappings: []SymbolMapping{{RawSymbol: "ESH4", Intervals: []MappingInterval{{20231224, 20231225, "17077"}}}},
	}
	if !reflect.DeepEqual(*md, want) {
		t.Fatalf("v1 metadata\n got %+v\nwant %+v", *md, want)
	}
	md, _ = decodeAll(t, decompressed(t, readShared(t, "test_data.definition.v3.dbn.zst")))
	if md.Version != 3 || md.Dataset != "XNAS.ITCH" || md.Limit != 2 || len(md.Mappings) != 1 ||
		len(md.Mappings[0].Intervals) != 62 || md.Mappings[0].Intervals[1] != (MappingInterval{20211005, 20211006, "6830"}) {
		t.Fatalf("v3 metadata %+v", md)
	}
}

// TestV3MatchesV2 checks that each v3 sample's records decode to the same
// values as its v2 twin: the market records field by field, definitions on
// the fields whose offsets moved.
func TestV3MatchesV2(t *testing.T) {
	for _, s := range samples {
		if s.twin == "" {
			continue
		}
		t.Run(s.file, func(t *testing.T) {
			_, v3 := decodeAll(t, decompressed(t, readShared(t, s.file)))
			_, v2 := decodeAll(t, readShared(t, s.twin))
			if len(v3) != len(v2) || len(v3) != s.records {
				t.Fatalf("%d v3 records, %d v2", len(v3), len(v2))
			}
			for i := range v3 {
				got, okA := decodeRecord(recordOf(v3[i], 3, false))
				want, okB := decodeRecord(recordOf(v2[i], 2, false))
				if !okA || !okB || reflect.ValueOf(got).IsZero() {
					t.Fatalf("record %d did not decode: %v %v", i, okA, okB)
				}
				if da, ok := got.(InstrumentDefMsg); ok {
					db := want.(InstrumentDefMsg)
					if string(da.RawSymbol) != "MSFT" {
						t.Fatalf("definition %d: %q", i, da.RawSymbol)
					}
					da.Length, db.Length = 0, 0 // 520 vs 400 bytes
					got, want = da, db
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("record %d\n v3 %+v\n v2 %+v", i, got, want)
				}
			}
		})
	}
}

func TestDefinitionV1(t *testing.T) {
	_, recs := decodeAll(t, decompressed(t, readShared(t, "futures_definition.dbn.zst")))
	want := []struct {
		iid           uint32
		sym, asset    string
		class, action byte
	}{{118, "ESU4", "ES", 'F', 'A'}, {4358, "NQU4", "NQ", 'F', 'A'}}
	for i, w := range want {
		var d InstrumentDefMsg
		ok := recordOf(recs[i], 1, false).InstrumentDef(&d)
		if !ok || d.InstrumentID != w.iid || string(d.RawSymbol) != w.sym || string(d.Asset) != w.asset ||
			string(d.SecurityType) != "FUT" || d.InstrumentClass != w.class || d.SecurityUpdateAction != w.action {
			t.Fatalf("definition %d: %+v raw %q asset %q", i, d, d.RawSymbol, d.Asset)
		}
	}
}

// TestReaderAllocs proves Next allocates nothing per record, on plain and
// on zstd input.
func TestReaderAllocs(t *testing.T) {
	comp := readShared(t, esh4File)
	plain := decompressed(t, comp)
	for name, data := range map[string][]byte{"plain": plain, "zstd": comp} {
		t.Run(name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for range 100 { // warm up the buffers
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			}
			var sum int64
			allocs := testing.AllocsPerRun(8000, func() {
				rec, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				var m MBOMsg
				rec.MBO(&m)
				sum += m.Price
			})
			if allocs != 0 || sum == 0 {
				t.Fatalf("%.2f allocs per record (sum %d)", allocs, sum)
			}
		})
	}
}

func TestSmallReads(t *testing.T) {
	data := decompressed(t, readShared(t, "futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"))
	_, want := decodeAll(t, data)
	for _, n := range []int{1, 3, 7, 80, 81, 4095} {
		r, err := NewReader(&chunkReader{b: data, n: n})
		if err != nil {
			t.Fatal(err)
		}
		metaLen := len(data) - len(want)*mbp1Len
		got, err := drain(r, func(i int, rec Record) error {
			if i >= len(want) || !bytes.Equal(rec.Bytes(), want[i]) {
				return fmt.Errorf("record %d differs", i)
			}
			if off := r.Offset(); off != int64(metaLen+mbp1Len*(i+1)) {
				return fmt.Errorf("record %d: offset %d, want %d", i, off, metaLen+mbp1Len*(i+1))
			}
			return nil
		})
		if err != nil || got != len(want) {
			t.Fatalf("chunk %d: %d records, want %d: %v", n, got, len(want), err)
		}
	}
}

func TestTsOut(t *testing.T) {
	var buf bytes.Buffer
	md := Metadata{Version: 2, Dataset: "GLBX.MDP3", Schema: SchemaMBO, TsOut: true}
	w, err := NewWriter(&buf, md)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		w.SetTsOut(uint64(1000 + i))
		m := MBOMsg{Header: Header{PublisherID: 1, InstrumentID: 7, TsEvent: uint64(i)}, OrderID: uint64(i), Action: 'A', Side: 'B'}
		if err := w.WriteMBO(&m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	md2, recs := decodeAll(t, buf.Bytes())
	if !md2.TsOut || len(recs) != 3 {
		t.Fatalf("ts_out %v, %d records", md2.TsOut, len(recs))
	}
	for i, b := range recs {
		rec := recordOf(b, 2, true)
		ts, ok := rec.TsOut()
		var m MBOMsg
		okM := rec.MBO(&m)
		if !ok || ts != uint64(1000+i) || !okM || m.OrderID != uint64(i) || rec.Len() != mboLen+8 {
			t.Fatalf("record %d: ts_out %d %v, %+v", i, ts, ok, m)
		}
	}
	// Without the 8 bytes, a ts_out stream's MBO record is too short.
	b := buf.Bytes()
	start := len(b) - 3*(mboLen+8)
	b[start] = mboLen / 4
	_, err = countRecords(bytes.NewReader(b))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrBadRecord) || e.Offset != int64(start) || e.Length != mboLen ||
		!strings.Contains(err.Error(), "with ts_out") {
		t.Fatalf("got %v", err)
	}
}

func TestUnknownAndSkippedRecords(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Metadata{Version: 3, Dataset: "TEST", Schema: SchemaMixed, StypeIn: STypeRawSymbol, StypeOut: STypeInstrumentID})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rec := func(t RType, n int) []byte {
		b := make([]byte, n)
		b[0], b[1] = byte(n/4), byte(t)
		return b
	}
	buf.Write(rec(0x99, 24))            // unknown rtype, skipped by its length
	buf.Write(rec(RTypeStatus, 40))     // known, not market
	buf.Write(rec(RTypeStatistics, 80)) // v3 size
	buf.Write(rec(RTypeOHLCV1M, 56))    // candles
	buf.Write(rec(RTypeSystem, 320))    // heartbeat
	buf.Write(rec(0xEE, 16))            // unknown, header only
	buf.Write(rec(RTypeMBO, 56))        // one market record
	buf.Write(rec(RTypeInstrumentDef, 520))
	r, err := NewReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drain(r, nil); err != nil {
		t.Fatal(err)
	}
	c := r.Counts()
	if c.Total != 8 || c.Unknown != 2 || c.Market != 1 || c.Skipped != 5 || c.ByRType[0x99] != 1 || c.ByRType[RTypeStatus] != 1 {
		t.Fatalf("counts: total %d unknown %d market %d skipped %d", c.Total, c.Unknown, c.Market, c.Skipped)
	}
}
