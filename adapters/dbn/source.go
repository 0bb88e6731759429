package dbn

import (
	"fmt"

	"thunderline/hotpath/record"
)

// MaxTicksPerRecord is the most ticks one record yields: an MBP-10 trade
// gives ten quote ticks and a trade tick. Source.Next needs a dst at least
// this long.
const MaxTicksPerRecord = mbp10Levels + 1

// SourceOptions configure a Source. The zero value is the default.
type SourceOptions struct {
	// Strict leaves ticks of instruments whose name cannot be resolved with
	// Symbol 0, which the engine rejects as unknown_symbol. By default such
	// an instrument is interned as "<publisher_id>:<instrument_id>", e.g.
	// "1:5482". Default false.
	Strict bool
}

// Validate reports a bad option. There are none yet; it exists so that
// callers validate options the same way everywhere.
func (o SourceOptions) Validate() error { return nil }

// Source converts the records of a Reader into record.MarketTick values.
//
// Mapping (one DBN record never spans two calls to Next):
//   - MBO: one KindOrder tick with Action, Side, Price, Size, OrderID; a
//     trade ('T') or fill ('F') also sets TradePx/TradeQty and FlagHasTrade.
//     Action clear ('R') gives KindClear with the same fields.
//   - MBP-1 and TBBO: a KindQuote tick at Depth 0 from level 0 (for TBBO,
//     the book before the trade); if the action is trade ('T'), a KindTrade
//     tick follows (TradePx=price, TradeQty=size, Side=aggressor). Quote
//     ticks never carry trade fields.
//   - Trades (MBP-0): one KindTrade tick.
//   - MBP-10: ten KindQuote ticks, Depth 0..9; FlagLast is cleared on depths
//     0..8 and always set on depth 9, marking the end of the ten levels. A
//     trade action adds a KindTrade tick after them.
//   - KindTrade ticks set FlagHasTrade, as every tick with TradePx does.
//   - Every tick: TsEvent, TsRecv (0 when undefined), Seq (DBN sequence),
//     Venue (publisher id), the DBN flags byte in the low byte of Flags,
//     Action and Side of the record; InSeq is left 0 for the caller.
//     UNDEF_PRICE stays record.UndefPrice.
//   - Other records yield no ticks. Symbol mapping and definition records
//     feed symbol resolution; all are counted (see RecordCounts).
//
// Symbol resolution of instrument_id, first match wins: symbol mapping
// records seen so far in the stream (their stype_out_symbol); the metadata
// mapping interval covering the record's ts_event (UTC date); the raw_symbol
// of a definition record seen so far; then, unless Strict, the fallback name
// "<publisher_id>:<instrument_id>". Metadata mappings of parent symbology
// (stype_in parent, e.g. "ES.FUT") are not used, since they give every
// contract of a product the same name. A name is interned once; later records
// of the instrument hit a small cache and do not allocate.
//
// A Source is not safe for concurrent use, and neither is the symbol table
// it interns into.
type Source struct {
	r       *Reader
	syms    *symbolMap
	rec     Record // a record read but not yet converted: it did not fit in dst
	pending bool
	err     error // sticky reader error, returned once dst holds no ticks
	ticks   uint64
}

// NewSource returns a Source reading r and interning names in syms, which
// must not be nil.
func NewSource(r *Reader, syms *record.Symbols, opts SourceOptions) *Source {
	return &Source{r: r, syms: newSymbolMap(r.Metadata(), syms, opts.Strict)}
}

// Next fills dst with the ticks of one or more whole records and returns how
// many it wrote. len(dst) must be at least MaxTicksPerRecord. It returns
// (0, io.EOF) at the end of the stream; when an error stops a call that has
// already written ticks, it returns them with a nil error and the error on
// the next call.
func (s *Source) Next(dst []record.MarketTick) (int, error) {
	if len(dst) < MaxTicksPerRecord {
		return 0, fmt.Errorf("%w: %d slots, need at least %d", ErrShortBuffer, len(dst), MaxTicksPerRecord)
	}
	n := 0
	for {
		if !s.pending {
			if s.err == nil {
				s.rec, s.err = s.r.Next()
			}
			if s.err != nil {
				if n > 0 {
					return n, nil
				}
				return 0, s.err
			}
		}
		need := ticksFor(s.rec)
		if n+need > len(dst) {
			s.pending = true
			return n, nil
		}
		s.pending = false
		k, err := s.convert(s.rec, dst[n:])
		if err != nil {
			s.err = err
			continue
		}
		n += k
		s.ticks += uint64(k)
	}
}

// RecordCounts returns the records read so far by rtype, with the ticks
// produced.
func (s *Source) RecordCounts() RecordCounts {
	c := s.r.Counts()
	c.Ticks = s.ticks
	return c
}

// ticksFor returns how many ticks rec yields.
func ticksFor(rec Record) int {
	b := rec.b
	switch RType(b[1]) {
	case RTypeMBO, RTypeMBP0:
		return 1
	case RTypeMBP1:
		if b[28] == record.ActionTrade {
			return 2
		}
		return 1
	case RTypeMBP10:
		if b[28] == record.ActionTrade {
			return mbp10Levels + 1
		}
		return mbp10Levels
	}
	return 0
}

// tsNanos converts a DBN timestamp; UNDEF_TIMESTAMP becomes 0.
func tsNanos(v uint64) int64 {
	if v == undefTimestamp {
		return 0
	}
	return int64(v)
}

// convert writes the ticks of rec to dst, which has room for them. It reads
// the record bytes straight into the ticks: going through the typed message
// structs would copy every record twice.
func (s *Source) convert(rec Record, dst []record.MarketTick) (int, error) {
	b := rec.b
	t := RType(b[1])
	switch t {
	case RTypeMBO, RTypeMBP0, RTypeMBP1, RTypeMBP10:
	case RTypeSymbolMapping:
		var m SymbolMappingMsg
		if rec.SymbolMapping(&m) {
			s.syms.learnMapping(m.InstrumentID, m.StypeOutSymbol)
		}
		return 0, nil
	case RTypeInstrumentDef:
		var m InstrumentDefMsg
		if rec.InstrumentDef(&m) {
			s.syms.learnDefinition(m.InstrumentID, m.RawSymbol)
		}
		return 0, nil
	default:
		return 0, nil
	}
	// Symbology by ts_recv, as Databento defines it (dbn --map-symbols, the
	// Python client): a session's opening snapshot carries the orders'
	// original entry times as ts_event, days before the mapping interval.
	recvAt := 32 // MBP-0, MBP-1, MBP-10 (and TBBO)
	if t == RTypeMBO {
		recvAt = 40
	}
	ts := le64(b, recvAt)
	if ts == undefTimestamp || ts == 0 { // not recorded: the event time
		ts = le64(b, 8)
	}
	sym, err := s.syms.lookup(le16(b, 2), le32(b, 4), int64(ts))
	if err != nil {
		return 0, &Error{Offset: s.r.Offset() - int64(len(b)), RType: int(t), Length: len(b),
			Err: err, Detail: "interning symbol"}
	}
	switch t {
	case RTypeMBO:
		orderTick(b[:mboLen], &dst[0], sym)
		return 1, nil
	case RTypeMBP0:
		tradeTick(b[:mbp0Len], &dst[0], sym)
		return 1, nil
	case RTypeMBP1:
		b = b[:mbp1Len]
		quoteTick(b, mbp0Len, 0, uint16(b[30]), &dst[0], sym)
		if b[28] != record.ActionTrade {
			return 1, nil
		}
		tradeTick(b, &dst[1], sym)
		return 2, nil
	default: // RTypeMBP10
		b = b[:mbp10Len]
		flags := uint16(b[30]) &^ record.FlagLast
		for i := range mbp10Levels - 1 {
			quoteTick(b, mbp0Len+i*bidAskPairLen, uint8(i), flags, &dst[i], sym)
		}
		quoteTick(b, mbp0Len+(mbp10Levels-1)*bidAskPairLen, mbp10Levels-1, flags|record.FlagLast, &dst[mbp10Levels-1], sym)
		if b[28] != record.ActionTrade {
			return mbp10Levels, nil
		}
		tradeTick(b, &dst[mbp10Levels], sym)
		return mbp10Levels + 1, nil
	}
}

// The tick writers below zero the tick and then set its fields one by one.
// A composite literal would be built on the stack and copied with wide loads
// right after its narrow stores: a store-forwarding stall on every tick.

// orderTick converts an MBO record.
func orderTick(b []byte, d *record.MarketTick, sym uint32) {
	b = b[:mboLen]
	*d = record.MarketTick{}
	action := b[38]
	price, size := int64(le64(b, 24)), le32(b, 32)
	d.TsEvent = tsNanos(le64(b, 8))
	d.TsRecv = tsNanos(le64(b, 40))
	d.Seq = uint64(le32(b, 52))
	d.OrderID = le64(b, 16)
	d.Price = price
	d.Size = size
	d.Symbol = sym
	d.Venue = le16(b, 2)
	d.Flags = uint16(b[36])
	d.Kind = record.KindOrder
	d.Action = action
	d.Side = b[39]
	switch action {
	case record.ActionClear:
		d.Kind = record.KindClear
	case record.ActionTrade, record.ActionFill:
		d.TradePx, d.TradeQty = price, size
		d.Flags |= record.FlagHasTrade
	}
}

// eventFields sets the fields every tick of an MBP record shares.
func eventFields(b []byte, d *record.MarketTick, sym uint32) {
	b = b[:mbp0Len]
	*d = record.MarketTick{}
	d.TsEvent = tsNanos(le64(b, 8))
	d.TsRecv = tsNanos(le64(b, 32))
	d.Seq = uint64(le32(b, 44))
	d.Symbol = sym
	d.Venue = le16(b, 2)
	d.Action = b[28]
	d.Side = b[29]
}

// quoteTick converts the book level at b[off:] of an MBP record.
func quoteTick(b []byte, off int, depth uint8, flags uint16, d *record.MarketTick, sym uint32) {
	eventFields(b, d, sym)
	l := b[off : off+bidAskPairLen]
	d.BidPx = int64(le64(l, 0))
	d.AskPx = int64(le64(l, 8))
	d.BidQty = le32(l, 16)
	d.AskQty = le32(l, 20)
	d.Flags = flags
	d.Kind = record.KindQuote
	d.Depth = depth
}

// tradeTick converts the event of an MBP record into a trade.
func tradeTick(b []byte, d *record.MarketTick, sym uint32) {
	eventFields(b, d, sym)
	d.TradePx = int64(le64(b, 16))
	d.TradeQty = le32(b, 24)
	d.Flags = uint16(b[30]) | record.FlagHasTrade
	d.Kind = record.KindTrade
}
