package itch

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"thunderline/hotpath/record"
)

// MaxTicksPerMessage is the most ticks one message yields (an execution:
// a trade and the reduction of the resting order; a replace: the old order
// out and the new one in). Source.Next needs a dst at least this long.
const MaxTicksPerMessage = 2

// SourceOptions configure a Source.
type SourceOptions struct {
	// Date is the session's calendar day (year, month, day; the zone is
	// ignored): event times are midnight New York of that day plus the
	// messages' timestamps. Zero: the day of the first packet's capture
	// time in New York (captures only); a framed file needs it.
	Date time.Time
	// Venue is the tick's venue id. Default 0.
	Venue uint16
	// OnTradingAction, when set, is called for every trading action (H)
	// and operational halt (h) the Source applies, with the symbol's state
	// after it. It runs on the goroutine that calls Next.
	OnTradingAction func(TradingEvent)
}

// TradingEvent is a change, or a restatement, of a symbol's trading state.
type TradingEvent struct {
	Symbol  uint32 // interned symbol id
	Locate  uint16
	TsEvent int64 // ns since the Unix epoch
	Type    byte  // 'H' trading action or 'h' operational halt
	State   byte  // H: H halted, P paused (LULD), Q quotation only, T trading; h: H halted, T resumed
	Reason  [4]byte
	Halted  bool // the symbol may not trade after this message
}

// order is a resting order, by reference number.
type order struct {
	sym    uint32
	price  Price4
	shares uint32
	side   byte // record.SideBid or record.SideAsk (or the raw byte if neither); sideUnknown: off the book
}

// sideUnknown marks an order a U put in place of an unknown original: its
// side is unknown, so it never reaches the engine's book.
const sideUnknown = 0

// Source turns the messages of a MessageReader into record.MarketTick
// values, keeping the state ITCH leaves to its reader: the symbol of each
// stock locate, every resting order by reference number, each symbol's
// trading state and the session's system events.
//
// Mapping (all ticks: TsEvent = midnight + timestamp, TsRecv = capture time
// or 0, Seq = Meta.Seq, Venue = SourceOptions.Venue, FlagLast on the last
// tick of a message; sides B→'B', S→'A'; prices ×100,000 to 1e-9 units):
//   - A, F: an add (KindOrder, ActionAdd) of the order.
//   - E, and C when printable: a trade (KindOrder, ActionTrade, TradePx and
//     TradeQty set, Side the aggressor: the side opposite the resting order)
//     at the order's price (E) or the execution price (C), then a cancel of
//     the executed shares from the resting order (KindOrder, ActionCancel at
//     the order's price and side). A non-printable C gives the cancel only.
//   - X: a cancel of the cancelled shares; D: a cancel of the order.
//   - U: a cancel of the original order and an add of the new reference on
//     the same side at the new price and shares.
//   - P: a trade (KindTrade, Side 'N': since 2014 P does not tell the
//     side). Q: a trade at the cross price (shares capped at 2^32-1); a cross
//     of 0 shares gives none.
//   - R binds a stock locate to its symbol (the 8-byte name, trimmed).
//     Messages that name a stock bind an unbound locate to that name
//     (counted as NoDirectory). Other types give no ticks.
//   - A live feed's sequence event (Meta.Event: a gap, a re-request, a
//     range given up) gives a control tick in its place: Action the event,
//     Seq and Size the range, Price and TsRecv when it was noticed, Venue
//     the feed channel it happened on (Meta.Channel).
//
// E, C, X, D and U of a reference the Source does not hold (a feed joined
// mid-session) are counted as UnknownOrder and give no ticks. A U of an
// unknown reference still tells the new order's price and shares but not
// its side: that order is held off the book (an orphan), so messages about
// it later count as Orphaned, not as unknown references, and give only the
// trade of a printable execution (Side 'N').
type Source struct {
	r        MessageReader
	syms     *record.Symbols
	opts     SourceOptions
	midnight int64
	dated    bool
	locSym   []uint32 // stock locate → symbol id (0: not bound)
	orders   map[uint64]order
	halted   []uint8 // halt bits by symbol id
	started  bool
	ended    bool
	lastSys  byte
	counts   Counts
	msg      Message
	meta     Meta
	err      error
}

// NewSource returns a Source reading r and interning names in syms.
func NewSource(r MessageReader, syms *record.Symbols, opts SourceOptions) *Source {
	s := &Source{r: r, syms: syms, opts: opts, locSym: make([]uint32, 1<<16),
		orders: make(map[uint64]order, 1<<16), halted: make([]uint8, record.MaxSymbols)}
	if !opts.Date.IsZero() {
		s.midnight, s.dated = Midnight(opts.Date), true
	}
	return s
}

// ErrNoDate is returned when a framed file's session day is not known.
var ErrNoDate = errors.New("itch: session date unknown (name the file MMDDYYYY… or YYYYMMDD…, or give the date)")

// Next fills dst with the ticks of one or more whole messages and returns
// how many it wrote. len(dst) must be at least MaxTicksPerMessage. It
// returns (0, io.EOF) at the end; when an error stops a call that has
// already written ticks, it returns them and the error on the next call.
func (s *Source) Next(dst []record.MarketTick) (int, error) {
	if len(dst) < MaxTicksPerMessage {
		return 0, fmt.Errorf("%w: %d slots, need at least %d", ErrShortBuffer, len(dst), MaxTicksPerMessage)
	}
	n := 0
	ready, live := s.r.(interface{ Ready() bool })
	for n+MaxTicksPerMessage <= len(dst) {
		if live && n > 0 && s.err == nil && !ready.Ready() {
			// A live feed with nothing more yet: hand over what there is
			// instead of waiting for the batch to fill.
			return n, nil
		}
		if s.err == nil {
			s.msg, s.meta, s.err = s.r.Next()
		}
		if s.err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, s.err
		}
		if s.meta.Event != 0 {
			dst[n] = record.MarketTick{Kind: record.KindControl, Action: s.meta.Event, Seq: s.meta.Seq,
				Size: uint32(min(s.meta.Count, 1<<32-1)), Price: s.meta.RecvNanos, TsRecv: s.meta.RecvNanos, Venue: s.meta.Channel}
			n++
			continue
		}
		if !s.dated {
			if s.meta.RecvNanos == 0 {
				s.err = ErrNoDate
				continue
			}
			s.midnight, s.dated = Midnight(DayOf(s.meta.RecvNanos)), true
		}
		k, err := s.apply(s.msg, dst[n:])
		if err != nil {
			s.err = err
			continue
		}
		if k > 0 {
			dst[n+k-1].Flags |= record.FlagLast
		}
		n += k
		s.counts.Ticks += uint64(k)
	}
	return n, nil
}

// Counts returns the reader's counts with the Source's own.
func (s *Source) Counts() Counts {
	c := *s.r.Counts()
	c.UnknownOrder, c.Orphaned, c.DuplicateRef, c.NoDirectory = s.counts.UnknownOrder, s.counts.Orphaned, s.counts.DuplicateRef, s.counts.NoDirectory
	c.Halts, c.Resumes, c.SessionEvents, c.Ticks = s.counts.Halts, s.counts.Resumes, s.counts.SessionEvents, s.counts.Ticks
	return c
}

// Halted reports whether symbol id sym is halted, paused or in a
// quotation-only period, as the last H or h message left it.
func (s *Source) Halted(sym uint32) bool { return int(sym) < len(s.halted) && s.halted[sym] != 0 }

// Session reports whether the session has started (system event O, S or Q
// seen) and ended (C, end of messages), and the last system event code.
func (s *Source) Session() (started, ended bool, last byte) { return s.started, s.ended, s.lastSys }

// Orders returns the number of resting orders held.
func (s *Source) Orders() int { return len(s.orders) }

// Symbol returns the symbol id a stock locate is bound to (0: none).
func (s *Source) Symbol(locate uint16) uint32 { return s.locSym[locate] }

// bind returns the symbol of m's locate, binding it to name if unbound.
func (s *Source) bind(m Message, name *Stock) (uint32, error) {
	loc := m.Locate()
	if id := s.locSym[loc]; id != 0 {
		return id, nil
	}
	t := name.Trimmed()
	var str string
	if len(t) == 0 {
		str = "locate:" + strconv.Itoa(int(loc))
	} else {
		str = string(t)
	}
	id, err := s.syms.Intern(str)
	if err != nil {
		return 0, fmt.Errorf("itch: stock locate %d: %w", loc, err)
	}
	s.locSym[loc] = id
	if m.Type() != TypeStockDirectory {
		s.counts.NoDirectory++
	}
	return id, nil
}

func side(b byte) byte {
	switch b {
	case 'B':
		return record.SideBid
	case 'S':
		return record.SideAsk
	}
	return b
}

func opposite(sd byte) byte {
	switch sd {
	case record.SideBid:
		return record.SideAsk
	case record.SideAsk:
		return record.SideBid
	}
	return record.SideNone
}

// tick zeroes d and sets the fields every tick of m shares.
func (s *Source) tick(d *record.MarketTick, m Message, sym uint32, kind record.Kind) {
	*d = record.MarketTick{}
	d.TsEvent = s.midnight + m.Timestamp()
	d.TsRecv = s.meta.RecvNanos
	d.Seq = s.meta.Seq
	d.Symbol = sym
	d.Venue = s.opts.Venue
	d.Kind = kind
}

func (s *Source) orderTick(d *record.MarketTick, m Message, ref uint64, o order, action byte, px Price4, size uint32) {
	s.tick(d, m, o.sym, record.KindOrder)
	d.OrderID = ref
	d.Action = action
	d.Side = o.side
	d.Price = px.Nanos()
	d.Size = size
	if action == record.ActionTrade {
		d.Side = opposite(o.side)
		d.TradePx, d.TradeQty = d.Price, size
		d.Flags |= record.FlagHasTrade
	}
}

// reduce takes up to n shares off the resting order ref and writes the
// cancel tick to d; it returns 0 (and writes nothing) when no shares move.
func (s *Source) reduce(d *record.MarketTick, m Message, ref uint64, o order, n uint32) int {
	n = min(n, o.shares)
	if n == 0 {
		return 0
	}
	if o.shares -= n; o.shares == 0 {
		delete(s.orders, ref)
	} else {
		s.orders[ref] = o
	}
	if o.side == sideUnknown {
		return 0
	}
	s.orderTick(d, m, ref, o, record.ActionCancel, o.price, n)
	return 1
}

func capShares(n uint64) uint32 { return uint32(min(n, math.MaxUint32)) }
