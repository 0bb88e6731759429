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
// "<publisher_id>:<instrument_id>". A name is interned once; later records of
// the instrument hit a small cache and do not allocate.
type Source struct {
	r       *Reader
	syms    *symbolMap
	rec     Record // a record read but not yet converted: it did not fit in dst
	pending bool
	err     error // sticky reader error, returned once dst holds no ticks
	ticks   uint64
}

// NewSource returns a Source reading r and interning names in syms.
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

// convert writes the ticks of rec to dst, which has room for them.
func (s *Source) convert(rec Record, dst []record.MarketTick) (int, error) {
	t := rec.RType()
	switch t {
	case RTypeSymbolMapping:
		if m, ok := rec.SymbolMapping(); ok {
			s.syms.learnMapping(m.InstrumentID, m.StypeOutSymbol)
		}
		return 0, nil
	case RTypeInstrumentDef:
		if m, ok := rec.InstrumentDef(); ok {
			s.syms.learnDefinition(m.InstrumentID, m.RawSymbol)
		}
		return 0, nil
	}
	if !t.IsMarket() {
		return 0, nil
	}
	h := rec.Header()
	sym, err := s.syms.lookup(h.PublisherID, h.InstrumentID, int64(h.TsEvent))
	if err != nil {
		return 0, &Error{Offset: s.r.Offset() - int64(h.Length), RType: int(t), Length: h.Length,
			Err: err, Detail: "interning symbol"}
	}
	switch t {
	case RTypeMBO:
		m, _ := rec.MBO()
		k := record.KindOrder
		if m.Action == record.ActionClear {
			k = record.KindClear
		}
		d := &dst[0]
		*d = record.MarketTick{
			TsEvent: tsNanos(m.TsEvent), TsRecv: tsNanos(m.TsRecv), Seq: uint64(m.Sequence),
			OrderID: m.OrderID, Price: m.Price, Size: m.Size,
			Symbol: sym, Venue: m.PublisherID, Flags: uint16(m.Flags),
			Kind: k, Action: m.Action, Side: m.Side,
		}
		if m.Action == record.ActionTrade || m.Action == record.ActionFill {
			d.TradePx, d.TradeQty = m.Price, m.Size
			d.Flags |= record.FlagHasTrade
		}
		return 1, nil
	case RTypeMBP0:
		m, _ := rec.Trade()
		tradeTick(&dst[0], &m, sym)
		return 1, nil
	case RTypeMBP1:
		m, _ := rec.MBP1()
		quoteTick(&dst[0], &m.BookEvent, &m.Level, 0, sym, uint16(m.Flags))
		if m.Action != record.ActionTrade {
			return 1, nil
		}
		tradeTick(&dst[1], &m.BookEvent, sym)
		return 2, nil
	default: // RTypeMBP10
		m, _ := rec.MBP10()
		flags := uint16(m.Flags) &^ record.FlagLast
		for i := range m.Levels {
			f := flags
			if i == mbp10Levels-1 {
				f |= record.FlagLast
			}
			quoteTick(&dst[i], &m.BookEvent, &m.Levels[i], uint8(i), sym, f)
		}
		if m.Action != record.ActionTrade {
			return mbp10Levels, nil
		}
		tradeTick(&dst[mbp10Levels], &m.BookEvent, sym)
		return mbp10Levels + 1, nil
	}
}

func quoteTick(d *record.MarketTick, e *BookEvent, l *BidAskPair, depth uint8, sym uint32, flags uint16) {
	*d = record.MarketTick{
		TsEvent: tsNanos(e.TsEvent), TsRecv: tsNanos(e.TsRecv), Seq: uint64(e.Sequence),
		BidPx: l.BidPx, AskPx: l.AskPx, BidQty: l.BidSz, AskQty: l.AskSz,
		Symbol: sym, Venue: e.PublisherID, Flags: flags,
		Kind: record.KindQuote, Action: e.Action, Side: e.Side, Depth: depth,
	}
}

func tradeTick(d *record.MarketTick, e *BookEvent, sym uint32) {
	*d = record.MarketTick{
		TsEvent: tsNanos(e.TsEvent), TsRecv: tsNanos(e.TsRecv), Seq: uint64(e.Sequence),
		TradePx: e.Price, TradeQty: e.Size,
		Symbol: sym, Venue: e.PublisherID, Flags: uint16(e.Flags) | record.FlagHasTrade,
		Kind: record.KindTrade, Action: e.Action, Side: e.Side,
	}
}
