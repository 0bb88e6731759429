package dbn

import "encoding/binary"

// Schema is the data schema of a DBN stream, as in its metadata.
type Schema uint16

// Schemas. SchemaMixed (u16::MAX) marks a stream that may hold any record
// type, as live data does.
const (
	SchemaMBO        Schema = 0
	SchemaMBP1       Schema = 1
	SchemaMBP10      Schema = 2
	SchemaTBBO       Schema = 3
	SchemaTrades     Schema = 4
	SchemaOHLCV1S    Schema = 5
	SchemaOHLCV1M    Schema = 6
	SchemaOHLCV1H    Schema = 7
	SchemaOHLCV1D    Schema = 8
	SchemaDefinition Schema = 9
	SchemaStatistics Schema = 10
	SchemaStatus     Schema = 11
	SchemaImbalance  Schema = 12
	SchemaOHLCVEOD   Schema = 13
	SchemaCMBP1      Schema = 14
	SchemaCBBO1S     Schema = 15
	SchemaCBBO1M     Schema = 16
	SchemaTCBBO      Schema = 17
	SchemaBBO1S      Schema = 18
	SchemaBBO1M      Schema = 19
	SchemaMixed      Schema = 0xFFFF
)

// SType is a symbology type: how the symbols of a request or mapping are
// expressed.
type SType uint8

// Symbology types used in this package (DBN defines more).
const (
	STypeInstrumentID SType = 0
	STypeRawSymbol    SType = 1
	STypeSmart        SType = 2 // deprecated
	STypeContinuous   SType = 3
	STypeParent       SType = 4
	STypeUnknown      SType = 0xFF // mixed, or not recorded (v1 symbol mappings)
)

// Metadata is the header of a DBN stream.
type Metadata struct {
	Version       uint8 // DBN version: 1, 2 or 3
	Dataset       string
	Schema        Schema
	Start         uint64 // query start, ns since the Unix epoch
	End           uint64 // query end, ns since the Unix epoch; 2^64-1 if none
	Limit         uint64 // record limit of the query, 0 for none
	RecordCount   uint64 // version 1 only: records in the stream, 2^64-1 if unknown
	StypeIn       SType
	StypeOut      SType
	TsOut         bool   // every record carries 8 extra bytes: the gateway send time
	SymbolCstrLen uint16 // bytes of each fixed-length symbol string (22 in v1)
	Symbols       []string
	Partial       []string
	NotFound      []string
	Mappings      []SymbolMapping
}

// SymbolMapping maps one requested symbol to what it resolved to over time.
type SymbolMapping struct {
	RawSymbol string // the requested symbol (stype_in)
	Intervals []MappingInterval
}

// MappingInterval is one date range of a SymbolMapping.
type MappingInterval struct {
	StartDate uint32 // UTC date, YYYYMMDD, inclusive
	EndDate   uint32 // UTC date, YYYYMMDD, exclusive
	Symbol    string // the resolved symbol (stype_out), "" if none that day
}

const (
	prefixLen      = 8   // "DBN", version, u32 length
	metaFixedLen   = 100 // fixed part of the metadata after the prefix
	datasetCstrLen = 16
)

// cursor reads little-endian fields from the metadata body and reports the
// stream offset of the field that did not fit.
type cursor struct {
	b    []byte
	off  int
	base int64 // stream offset of b[0]
	err  *Error
}

func (c *cursor) need(n int, what string) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || len(c.b)-c.off < n {
		c.err = metaErr(ErrBadMetadata, c.base+int64(c.off),
			"%s needs %d bytes, %d left in the declared metadata length", what, n, len(c.b)-c.off)
		return false
	}
	return true
}

func (c *cursor) u32(what string) uint32 {
	if !c.need(4, what) {
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b[c.off:])
	c.off += 4
	return v
}

func (c *cursor) str(n int, what string) string {
	if !c.need(n, what) {
		return ""
	}
	s := string(cstr(c.b[c.off : c.off+n]))
	c.off += n
	return s
}

// count reads a u32 element count and checks that count elements of at
// least minLen bytes each fit in what is left, so that a corrupt count
// cannot make us allocate more than the input holds.
func (c *cursor) count(minLen int, what string) int {
	n := c.u32(what + " count")
	if c.err != nil {
		return 0
	}
	if left := len(c.b) - c.off; uint64(n)*uint64(minLen) > uint64(left) {
		c.err = metaErr(ErrBadMetadata, c.base+int64(c.off-4),
			"%s count %d needs at least %d bytes, %d left in the declared metadata length",
			what, n, uint64(n)*uint64(minLen), left)
		return 0
	}
	return int(n)
}

func (c *cursor) strings(cstrLen int, what string) []string {
	n := c.count(cstrLen, what)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = c.str(cstrLen, what)
	}
	return out
}

// parseMetadata decodes the metadata body b (everything after the 8-byte
// prefix) of a DBN stream of version v. base is the stream offset of b[0].
func parseMetadata(v uint8, b []byte, base int64) (Metadata, error) {
	m := Metadata{Version: v}
	if len(b) < metaFixedLen {
		return m, metaErr(ErrBadMetadata, base,
			"declared metadata length %d is shorter than its fixed part (%d)", len(b), metaFixedLen)
	}
	le := binary.LittleEndian
	m.Dataset = string(cstr(b[:datasetCstrLen]))
	m.Schema = Schema(le.Uint16(b[16:]))
	m.Start = le.Uint64(b[18:])
	m.End = le.Uint64(b[26:])
	m.Limit = le.Uint64(b[34:])
	var cstrLen int
	if v == 1 {
		m.RecordCount = le.Uint64(b[42:])
		m.StypeIn, m.StypeOut, m.TsOut = SType(b[50]), SType(b[51]), b[52] != 0
		cstrLen = symbolCstrLenV1
	} else {
		m.StypeIn, m.StypeOut, m.TsOut = SType(b[42]), SType(b[43]), b[44] != 0
		cstrLen = int(le.Uint16(b[45:]))
		if cstrLen == 0 {
			return m, metaErr(ErrBadMetadata, base+45, "symbol_cstr_len is 0")
		}
	}
	m.SymbolCstrLen = uint16(cstrLen)

	c := &cursor{b: b, off: metaFixedLen, base: base}
	// The schema definition is reserved for future use and always empty in
	// files written so far; skip it if present.
	if n := c.u32("schema definition length"); c.need(int(n), "schema definition") {
		c.off += int(n)
	}
	m.Symbols = c.strings(cstrLen, "symbols")
	m.Partial = c.strings(cstrLen, "partial")
	m.NotFound = c.strings(cstrLen, "not_found")
	nm := c.count(cstrLen+4, "mappings")
	if nm > 0 {
		m.Mappings = make([]SymbolMapping, nm)
	}
	for i := 0; i < nm && c.err == nil; i++ {
		sm := &m.Mappings[i]
		sm.RawSymbol = c.str(cstrLen, "mapping raw symbol")
		ni := c.count(8+cstrLen, "mapping intervals")
		if ni > 0 {
			sm.Intervals = make([]MappingInterval, ni)
		}
		for j := 0; j < ni && c.err == nil; j++ {
			iv := &sm.Intervals[j]
			iv.StartDate = c.u32("interval start date")
			iv.EndDate = c.u32("interval end date")
			iv.Symbol = c.str(cstrLen, "interval symbol")
		}
	}
	if c.err != nil {
		return m, c.err
	}
	// Whatever follows is padding to 8-byte alignment.
	return m, nil
}
