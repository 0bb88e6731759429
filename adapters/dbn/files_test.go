package dbn

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// sharedDir holds the real DBN files of the project (see
// ../shared/data/README.md from the module root).
const sharedDir = "../../../shared/data/dbn"

// sample is one real file and what it must decode to.
type sample struct {
	file    string
	version uint8
	schema  Schema
	rtype   RType // rtype of its records
	records int
	twin    string // v3 files: the v2 file with the same records
}

var samples = []sample{
	{file: "test_data.mbo.dbn", version: 2, schema: SchemaMBO, rtype: RTypeMBO, records: 2},
	{file: "test_data.mbp-1.dbn", version: 2, schema: SchemaMBP1, rtype: RTypeMBP1, records: 2},
	{file: "test_data.mbp-10.dbn", version: 2, schema: SchemaMBP10, rtype: RTypeMBP10, records: 2},
	{file: "test_data.tbbo.dbn", version: 2, schema: SchemaTBBO, rtype: RTypeMBP1, records: 2},
	{file: "test_data.trades.dbn", version: 2, schema: SchemaTrades, rtype: RTypeMBP0, records: 2},
	{file: "test_data.definition.dbn", version: 2, schema: SchemaDefinition, rtype: RTypeInstrumentDef, records: 2},
	{file: "test_data.mbo.v3.dbn.zst", version: 3, schema: SchemaMBO, rtype: RTypeMBO, records: 2, twin: "test_data.mbo.dbn"},
	{file: "test_data.mbp-1.v3.dbn.zst", version: 3, schema: SchemaMBP1, rtype: RTypeMBP1, records: 2, twin: "test_data.mbp-1.dbn"},
	{file: "test_data.mbp-10.v3.dbn.zst", version: 3, schema: SchemaMBP10, rtype: RTypeMBP10, records: 2, twin: "test_data.mbp-10.dbn"},
	{file: "test_data.tbbo.v3.dbn.zst", version: 3, schema: SchemaTBBO, rtype: RTypeMBP1, records: 2, twin: "test_data.tbbo.dbn"},
	{file: "test_data.trades.v3.dbn.zst", version: 3, schema: SchemaTrades, rtype: RTypeMBP0, records: 2, twin: "test_data.trades.dbn"},
	{file: "test_data.definition.v3.dbn.zst", version: 3, schema: SchemaDefinition, rtype: RTypeInstrumentDef, records: 2, twin: "test_data.definition.dbn"},
	{file: "esh4-glbx-mdp3-20231224.mbo.dbn.zst", version: 1, schema: SchemaMBO, rtype: RTypeMBO, records: 8725},
	{file: "futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst", version: 1, schema: SchemaMBP1, rtype: RTypeMBP1, records: 2288},
	{file: "futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst", version: 1, schema: SchemaTrades, rtype: RTypeMBP0, records: 120},
	{file: "futures_definition.dbn.zst", version: 1, schema: SchemaDefinition, rtype: RTypeInstrumentDef, records: 2},
}

const esh4File = "esh4-glbx-mdp3-20231224.mbo.dbn.zst"

// readShared returns a file of the shared data directory, as stored.
func readShared(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir, name))
	if err != nil {
		tb.Fatalf("shared DBN data (see ../shared/data/README.md from the module root): %v", err)
	}
	return b
}

// decompressed returns b, zstd-decoded if it starts with the zstd magic.
func decompressed(tb testing.TB, b []byte) []byte {
	tb.Helper()
	if !bytes.HasPrefix(b, zstdMagic[:]) {
		return b
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	out, err := d.DecodeAll(b, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// decodeAll reads every record of a stream, copying each.
func decodeAll(tb testing.TB, data []byte) (*Metadata, [][]byte) {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var recs [][]byte
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("record %d: %v", len(recs), err)
		}
		recs = append(recs, bytes.Clone(rec.Bytes()))
	}
	return r.Metadata(), recs
}

// recordOf wraps raw record bytes of version v as a Record.
func recordOf(b []byte, v uint8, tsOut bool) Record { return Record{b: b, ver: v, tsOut: tsOut} }

// decoders decode a record into the message type of its rtype.
var decoders = map[RType]func(Record) (any, bool){
	RTypeMBO:           decoder(Record.MBO),
	RTypeMBP0:          decoder(Record.Trade),
	RTypeMBP1:          decoder(Record.MBP1),
	RTypeMBP10:         decoder(Record.MBP10),
	RTypeInstrumentDef: decoder(Record.InstrumentDef),
	RTypeSymbolMapping: decoder(Record.SymbolMapping),
}

func decoder[M any](decode func(Record, *M) bool) func(Record) (any, bool) {
	return func(r Record) (any, bool) {
		var m M
		ok := decode(r, &m)
		return m, ok
	}
}

// decodeRecord decodes rec as the message its rtype names. ok is false when
// rec is too short for it or the rtype has no message type here.
func decodeRecord(rec Record) (msg any, ok bool) {
	if d := decoders[rec.RType()]; d != nil {
		return d(rec)
	}
	return nil, false
}

// drain reads r to the end, calling visit (when not nil) with each record
// and its index. It returns the number of records read and the first error
// other than io.EOF (visit's included).
func drain(r *Reader, visit func(i int, rec Record) error) (int, error) {
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err == nil && visit != nil {
			err = visit(n, rec)
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// countRecords reads a whole stream: the record count, or the first error
// (a NewReader error with 0 records).
func countRecords(in io.Reader) (int, error) {
	r, err := NewReader(in)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return drain(r, nil)
}

// chunkReader returns at most n bytes per Read (n 0: no limit), to
// exercise refills at every position of a record, then err (io.EOF when
// nil).
type chunkReader struct {
	b   []byte
	n   int
	err error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		return 0, io.EOF
	}
	k := min(len(p), len(c.b))
	if c.n > 0 {
		k = min(k, c.n)
	}
	copy(p, c.b[:k])
	c.b = c.b[k:]
	return k, nil
}
