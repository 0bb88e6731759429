package dbn

import "encoding/binary"

// RType is the record type byte of a DBN record header.
type RType uint8

// Record types this package knows. Market records (MBO, MBP-0, MBP-1,
// MBP-10) have typed decoders; the others are recognized, length-checked,
// counted and skipped, except definitions and symbol mappings, which Source
// reads for symbol names.
const (
	RTypeMBP0            RType = 0x00 // trades schema
	RTypeMBP1            RType = 0x01 // mbp-1 and tbbo schemas
	RTypeMBP10           RType = 0x0A
	RTypeOHLCVDeprecated RType = 0x11
	RTypeStatus          RType = 0x12
	RTypeInstrumentDef   RType = 0x13
	RTypeImbalance       RType = 0x14
	RTypeError           RType = 0x15
	RTypeSymbolMapping   RType = 0x16
	RTypeSystem          RType = 0x17
	RTypeStatistics      RType = 0x18
	RTypeOHLCV1S         RType = 0x20
	RTypeOHLCV1M         RType = 0x21
	RTypeOHLCV1H         RType = 0x22
	RTypeOHLCV1D         RType = 0x23
	RTypeOHLCVEOD        RType = 0x24
	RTypeMBO             RType = 0xA0
	RTypeCMBP1           RType = 0xB1
	RTypeCBBO1S          RType = 0xC0
	RTypeCBBO1M          RType = 0xC1
	RTypeTCBBO           RType = 0xC2
	RTypeBBO1S           RType = 0xC3
	RTypeBBO1M           RType = 0xC4
)

// Layout sizes, in bytes.
const (
	headerLen              = 16 // bytes in a record header
	tsOutLen               = 8  // bytes ts_out appends to every record
	maxRecordLen           = 255 * 4
	mbp10Levels            = 10
	symbolCstrLenV1        = 22 // fixed in version 1
	symbolCstrLenV2        = 71 // records of versions 2 and 3
	errorMsgLenV1          = 64 // text bytes of v1 error and system records
	errorMsgLenV2          = 302
	systemMsgLenV2         = 303
	mboLen                 = 56
	mbp0Len                = 48
	mbp1Len                = 80
	mbp10Len               = 48 + mbp10Levels*32
	bidAskPairLen          = 32
	undefTimestamp  uint64 = 1<<64 - 1
)

var rtypeNames = [256]string{
	RTypeMBP0: "mbp-0", RTypeMBP1: "mbp-1", RTypeMBP10: "mbp-10",
	RTypeOHLCVDeprecated: "ohlcv", RTypeStatus: "status", RTypeInstrumentDef: "instrument-def",
	RTypeImbalance: "imbalance", RTypeError: "error", RTypeSymbolMapping: "symbol-mapping",
	RTypeSystem: "system", RTypeStatistics: "statistics",
	RTypeOHLCV1S: "ohlcv-1s", RTypeOHLCV1M: "ohlcv-1m", RTypeOHLCV1H: "ohlcv-1h",
	RTypeOHLCV1D: "ohlcv-1d", RTypeOHLCVEOD: "ohlcv-eod", RTypeMBO: "mbo",
	RTypeCMBP1: "cmbp-1", RTypeCBBO1S: "cbbo-1s", RTypeCBBO1M: "cbbo-1m",
	RTypeTCBBO: "tcbbo", RTypeBBO1S: "bbo-1s", RTypeBBO1M: "bbo-1m",
}

// String returns the rtype's short name, or "unknown".
func (t RType) String() string {
	if n := rtypeNames[t]; n != "" {
		return n
	}
	return "unknown"
}

// Known reports whether the package recognizes the rtype.
func (t RType) Known() bool { return rtypeNames[t] != "" }

// IsMarket reports whether Source converts records of this rtype to ticks.
func (t RType) IsMarket() bool {
	return t == RTypeMBO || t == RTypeMBP0 || t == RTypeMBP1 || t == RTypeMBP10
}

// recordLen is the size in bytes of a record of rtype t in DBN version v,
// without ts_out, or 0 if t is unknown.
func recordLen(v uint8, t RType) int {
	switch t {
	case RTypeMBO:
		return mboLen
	case RTypeMBP0:
		return mbp0Len
	case RTypeMBP1, RTypeCMBP1, RTypeCBBO1S, RTypeCBBO1M, RTypeTCBBO, RTypeBBO1S, RTypeBBO1M:
		return mbp1Len
	case RTypeMBP10:
		return mbp10Len
	case RTypeOHLCVDeprecated, RTypeOHLCV1S, RTypeOHLCV1M, RTypeOHLCV1H, RTypeOHLCV1D, RTypeOHLCVEOD:
		return 56
	case RTypeStatus:
		return 40
	case RTypeImbalance:
		return 112
	case RTypeInstrumentDef:
		switch v {
		case 1:
			return 360
		case 2:
			return 400
		default:
			return 520
		}
	case RTypeSymbolMapping:
		if v == 1 {
			return 80
		}
		return 176
	case RTypeError, RTypeSystem:
		if v == 1 {
			return headerLen + errorMsgLenV1
		}
		return 320
	case RTypeStatistics:
		if v == 3 {
			return 80
		}
		return 64
	}
	return 0
}

// Record is a view of one DBN record inside the Reader's buffer. It is
// valid until the next call to Reader.Next; copy what must outlive it.
type Record struct {
	b     []byte // exactly the record's length, at least its rtype's size
	ver   uint8
	tsOut bool
}

// Header is the 16-byte header every DBN record starts with.
type Header struct {
	Length       int // record length in bytes (the header stores 4-byte words), ts_out included
	RType        RType
	PublisherID  uint16
	InstrumentID uint32
	TsEvent      uint64 // ns since the Unix epoch; 2^64-1 means undefined
}

func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// Len returns the record's length in bytes, ts_out included.
func (r Record) Len() int { return len(r.b) }

// RType returns the record type.
func (r Record) RType() RType {
	if len(r.b) < headerLen {
		return 0
	}
	return RType(r.b[1])
}

// PublisherID returns the Databento publisher (dataset and venue) id.
func (r Record) PublisherID() uint16 {
	if len(r.b) < headerLen {
		return 0
	}
	return le16(r.b, 2)
}

// InstrumentID returns the numeric instrument id.
func (r Record) InstrumentID() uint32 {
	if len(r.b) < headerLen {
		return 0
	}
	return le32(r.b, 4)
}

// TsEvent returns the event time in ns since the Unix epoch.
func (r Record) TsEvent() uint64 {
	if len(r.b) < headerLen {
		return 0
	}
	return le64(r.b, 8)
}

// Header decodes the record header.
func (r Record) Header() (h Header) {
	if len(r.b) >= headerLen {
		header(r.b, &h)
	}
	return h
}

// TsOut returns the gateway send time appended to every record when the
// metadata's TsOut is set, and whether it is present.
func (r Record) TsOut() (uint64, bool) {
	if !r.tsOut || len(r.b) < headerLen+tsOutLen {
		return 0, false
	}
	return le64(r.b, len(r.b)-tsOutLen), true
}

// Bytes returns the raw record, header and ts_out included. It aliases the
// Reader's buffer.
func (r Record) Bytes() []byte { return r.b }

// BidAskPair is one book level of an MBP-1, TBBO or MBP-10 record.
type BidAskPair struct {
	BidPx int64
	AskPx int64
	BidSz uint32
	AskSz uint32
	BidCt uint32
	AskCt uint32
}

// MBOMsg is a market-by-order record (rtype 0xA0).
type MBOMsg struct {
	Header
	OrderID   uint64
	Price     int64
	Size      uint32
	Flags     uint8
	ChannelID uint8
	Action    byte
	Side      byte
	TsRecv    uint64
	TsInDelta int32
	Sequence  uint32
}

// BookEvent holds the fields shared by MBP-0, MBP-1/TBBO and MBP-10 records:
// the event that produced the record. A trades (MBP-0, rtype 0x00) record is
// exactly a BookEvent.
type BookEvent struct {
	Header
	Price     int64
	Size      uint32
	Action    byte
	Side      byte
	Flags     uint8
	Depth     uint8
	TsRecv    uint64
	TsInDelta int32
	Sequence  uint32
}

// MBP1Msg is an MBP-1 or TBBO record (rtype 0x01): the event and the top
// of the book.
type MBP1Msg struct {
	BookEvent
	Level BidAskPair
}

// MBP10Msg is an MBP-10 record (rtype 0x0A): the event and ten levels.
type MBP10Msg struct {
	BookEvent
	Levels [mbp10Levels]BidAskPair
}

// InstrumentDefMsg holds the fields of an instrument definition record
// (rtype 0x13) that this package uses. The byte slices alias the Reader's
// buffer, with the C string's NUL padding removed.
type InstrumentDefMsg struct {
	Header
	TsRecv               uint64
	MinPriceIncrement    int64
	DisplayFactor        int64
	Expiration           uint64
	Activation           uint64
	HighLimitPrice       int64
	LowLimitPrice        int64
	RawSymbol            []byte
	Asset                []byte
	SecurityType         []byte
	InstrumentClass      byte
	SecurityUpdateAction byte
}

// SymbolMappingMsg is a symbol mapping record (rtype 0x16). Version 1
// records carry no stype fields; they read as 0xFF (unknown). The byte
// slices alias the Reader's buffer.
type SymbolMappingMsg struct {
	Header
	StypeIn        SType
	StypeInSymbol  []byte
	StypeOut       SType
	StypeOutSymbol []byte
	StartTs        uint64
	EndTs          uint64
}

// The typed decoders fill a caller-owned struct, so that decoding a record
// copies nothing but its fields (returning these structs by value costs
// store-forwarding stalls on every record). They return false, leaving m
// untouched, when the record is of another rtype.

// header fills h from b, which holds at least a header.
func header(b []byte, h *Header) {
	h.Length = len(b)
	h.RType = RType(b[1])
	h.PublisherID = le16(b, 2)
	h.InstrumentID = le32(b, 4)
	h.TsEvent = le64(b, 8)
}

// MBO decodes a market-by-order record.
func (r Record) MBO(m *MBOMsg) bool {
	b := r.b
	if len(b) < mboLen || RType(b[1]) != RTypeMBO {
		return false
	}
	header(b, &m.Header)
	m.OrderID = le64(b, 16)
	m.Price = int64(le64(b, 24))
	m.Size = le32(b, 32)
	m.Flags = b[36]
	m.ChannelID = b[37]
	m.Action = b[38]
	m.Side = b[39]
	m.TsRecv = le64(b, 40)
	m.TsInDelta = int32(le32(b, 48))
	m.Sequence = le32(b, 52)
	return true
}

// bookEvent decodes the part common to MBP records; b is long enough.
func bookEvent(b []byte, e *BookEvent) {
	header(b, &e.Header)
	e.Price = int64(le64(b, 16))
	e.Size = le32(b, 24)
	e.Action = b[28]
	e.Side = b[29]
	e.Flags = b[30]
	e.Depth = b[31]
	e.TsRecv = le64(b, 32)
	e.TsInDelta = int32(le32(b, 40))
	e.Sequence = le32(b, 44)
}

func bidAskPair(b []byte, off int, p *BidAskPair) {
	b = b[off : off+bidAskPairLen]
	p.BidPx = int64(le64(b, 0))
	p.AskPx = int64(le64(b, 8))
	p.BidSz = le32(b, 16)
	p.AskSz = le32(b, 20)
	p.BidCt = le32(b, 24)
	p.AskCt = le32(b, 28)
}

// Trade decodes a trades (MBP-0) record.
func (r Record) Trade(m *BookEvent) bool {
	if len(r.b) < mbp0Len || RType(r.b[1]) != RTypeMBP0 {
		return false
	}
	bookEvent(r.b, m)
	return true
}

// MBP1 decodes an MBP-1 or TBBO record.
func (r Record) MBP1(m *MBP1Msg) bool {
	if len(r.b) < mbp1Len || RType(r.b[1]) != RTypeMBP1 {
		return false
	}
	bookEvent(r.b, &m.BookEvent)
	bidAskPair(r.b, mbp0Len, &m.Level)
	return true
}

// MBP10 decodes an MBP-10 record.
func (r Record) MBP10(m *MBP10Msg) bool {
	if len(r.b) < mbp10Len || RType(r.b[1]) != RTypeMBP10 {
		return false
	}
	bookEvent(r.b, &m.BookEvent)
	for i := range m.Levels {
		bidAskPair(r.b, mbp0Len+i*bidAskPairLen, &m.Levels[i])
	}
	return true
}

// Level decodes book level i (0..9) of an MBP-10 record, or level 0 of an
// MBP-1 record, without decoding the rest.
func (r Record) Level(i int, p *BidAskPair) bool {
	n := 0
	switch r.RType() {
	case RTypeMBP1:
		n = 1
	case RTypeMBP10:
		n = mbp10Levels
	}
	off := mbp0Len + i*bidAskPairLen
	if i < 0 || i >= n || len(r.b) < off+bidAskPairLen {
		return false
	}
	bidAskPair(r.b, off, p)
	return true
}

// defLayout gives the offsets of the definition fields that moved between
// versions: raw_symbol, asset, security_type (each with its length),
// instrument_class and security_update_action.
type defLayout struct {
	rawSym, rawSymLen, asset, assetLen, secType, class, action int
}

var defLayouts = [4]defLayout{
	1: {rawSym: 200, rawSymLen: symbolCstrLenV1, asset: 248, assetLen: 7, secType: 262, class: 325, action: 349},
	2: {rawSym: 200, rawSymLen: symbolCstrLenV2, asset: 297, assetLen: 7, secType: 311, class: 374, action: 382},
	3: {rawSym: 238, rawSymLen: symbolCstrLenV2, asset: 335, assetLen: 11, secType: 353, class: 487, action: 493},
}

const secTypeLen = 7

// InstrumentDef decodes the main fields of an instrument definition.
func (r Record) InstrumentDef(m *InstrumentDefMsg) bool {
	b := r.b
	if r.ver < 1 || r.ver > 3 || len(b) < recordLen(r.ver, RTypeInstrumentDef) || RType(b[1]) != RTypeInstrumentDef {
		return false
	}
	l := defLayouts[r.ver]
	header(b, &m.Header)
	m.TsRecv = le64(b, 16)
	m.MinPriceIncrement = int64(le64(b, 24))
	m.DisplayFactor = int64(le64(b, 32))
	m.Expiration = le64(b, 40)
	m.Activation = le64(b, 48)
	m.HighLimitPrice = int64(le64(b, 56))
	m.LowLimitPrice = int64(le64(b, 64))
	m.RawSymbol = cstr(b[l.rawSym : l.rawSym+l.rawSymLen])
	m.Asset = cstr(b[l.asset : l.asset+l.assetLen])
	m.SecurityType = cstr(b[l.secType : l.secType+secTypeLen])
	m.InstrumentClass = b[l.class]
	m.SecurityUpdateAction = b[l.action]
	return true
}

// SymbolMapping decodes a symbol mapping record.
func (r Record) SymbolMapping(m *SymbolMappingMsg) bool {
	b := r.b
	if r.ver < 1 || r.ver > 3 || len(b) < recordLen(r.ver, RTypeSymbolMapping) || RType(b[1]) != RTypeSymbolMapping {
		return false
	}
	header(b, &m.Header)
	if r.ver == 1 {
		m.StypeIn, m.StypeOut = STypeUnknown, STypeUnknown
		m.StypeInSymbol = cstr(b[16 : 16+symbolCstrLenV1])
		m.StypeOutSymbol = cstr(b[38 : 38+symbolCstrLenV1])
		m.StartTs = le64(b, 64)
		m.EndTs = le64(b, 72)
		return true
	}
	m.StypeIn = SType(b[16])
	m.StypeInSymbol = cstr(b[17 : 17+symbolCstrLenV2])
	m.StypeOut = SType(b[88])
	m.StypeOutSymbol = cstr(b[89 : 89+symbolCstrLenV2])
	m.StartTs = le64(b, 160)
	m.EndTs = le64(b, 168)
	return true
}

// Message returns the text of an error (0x15) or system (0x17) record,
// NUL padding removed; ok is false for any other rtype.
func (r Record) Message() (text []byte, ok bool) {
	t := r.RType()
	if (t != RTypeError && t != RTypeSystem) || len(r.b) < recordLen(r.ver, t) {
		return nil, false
	}
	n := errorMsgLenV1
	if r.ver > 1 {
		n = errorMsgLenV2
		if t == RTypeSystem {
			n = systemMsgLenV2
		}
	}
	return cstr(r.b[headerLen : headerLen+n]), true
}

// cstr returns b up to its first NUL.
func cstr(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i:i]
		}
	}
	return b
}
