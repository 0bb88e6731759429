package book

import (
	"cmp"
	"fmt"

	"thunderline/hotpath/record"
	"thunderline/hotpath/table"
)

// MaxDepth is the most levels a snapshot or a quote feed can carry.
const MaxDepth = 32

// Level is one aggregated price level.
type Level struct {
	Px  int64 // 1e-9 units
	Qty int64
	N   uint32 // orders at the level (MBO); 0 for quote feeds
}

// Config sizes the books of a partition.
type Config struct {
	// Depth is the number of top levels a snapshot reports. Default 10.
	Depth int
	// MaxLevels bounds price levels per side of one MBO book. Default 4096.
	MaxLevels int
	// MaxOrders bounds resting orders across the partition. Default 262144
	// (1<<18): the table is allocated on the first market-by-order tick.
	MaxOrders int
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	c.Depth = cmp.Or(c.Depth, 10)
	c.MaxLevels = cmp.Or(c.MaxLevels, 4096)
	c.MaxOrders = cmp.Or(c.MaxOrders, 1<<18)
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Depth < 1 || c.Depth > MaxDepth:
		return fmt.Errorf("depth %d: must be between 1 and %d", c.Depth, MaxDepth)
	case c.MaxLevels < c.Depth:
		return fmt.Errorf("max_levels %d: must be at least depth %d", c.MaxLevels, c.Depth)
	case c.MaxOrders < 1:
		return fmt.Errorf("max_orders %d: must be positive", c.MaxOrders)
	}
	return nil
}

// side holds the levels of one side, best price last.
type side struct {
	lv  []Level // len = levels in use; cap fixed
	bid bool    // bids ascend to the best; asks descend to the best
}

// better reports whether a is a better price than b on this side.
func (s *side) better(a, b int64) bool {
	if s.bid {
		return a > b
	}
	return a < b
}

// find returns the index of px, or where it would be inserted.
func (s *side) find(px int64) (int, bool) {
	lo, hi := 0, len(s.lv)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.better(px, s.lv[m].Px) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.lv) && s.lv[lo].Px == px
}

func (s *side) add(px, qty int64) bool {
	i, ok := s.find(px)
	if ok {
		s.lv[i].Qty += qty
		s.lv[i].N++
		return true
	}
	if len(s.lv) == cap(s.lv) {
		return false
	}
	s.lv = s.lv[:len(s.lv)+1]
	copy(s.lv[i+1:], s.lv[i:])
	s.lv[i] = Level{Px: px, Qty: qty, N: 1}
	return true
}

func (s *side) remove(px, qty int64, orders uint32) {
	i, ok := s.find(px)
	if !ok {
		return
	}
	l := &s.lv[i]
	l.Qty -= qty
	l.N -= min(orders, l.N)
	if l.Qty <= 0 || l.N == 0 {
		copy(s.lv[i:], s.lv[i+1:])
		s.lv = s.lv[:len(s.lv)-1]
	}
}

// top returns the k-th best level (0 = best), or false.
func (s *side) top(k int) (Level, bool) {
	if k >= len(s.lv) {
		return Level{}, false
	}
	return s.lv[len(s.lv)-1-k], true
}

// Book is the book of one symbol.
type Book struct {
	Symbol uint32
	mbo    bool
	epoch  uint32 // bumped by Clear: orders of older epochs are gone
	live   int    // resting orders in the partition's order table
	bids   side
	asks   side
	// quote-driven levels, set directly by depth
	qBid, qAsk [MaxDepth]Level
	qDepth     int
	maxLevels  int
}

type order struct {
	px     int64
	size   int64
	symbol uint32
	epoch  uint32
	side   uint8
}

// Books holds every book of a partition.
type Books struct {
	cfg    Config
	books  []*Book // by symbol id
	orders *table.Table[order]
	// Counters.
	Crossed uint64 // MBO updates that left a book crossed or locked
}

// New returns an empty set of books.
func New(cfg Config) (*Books, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("book config: %w", err)
	}
	return &Books{cfg: cfg, books: make([]*Book, record.MaxSymbols)}, nil
}

// Depth returns the configured snapshot depth.
func (bs *Books) Depth() int { return bs.cfg.Depth }

// Get returns the book of sym, creating it on first use (the one allocation
// per symbol).
func (bs *Books) Get(sym uint32) *Book {
	if sym >= record.MaxSymbols {
		return nil
	}
	b := bs.books[sym]
	if b == nil {
		b = &Book{Symbol: sym, maxLevels: bs.cfg.MaxLevels}
		b.bids.bid = true
		bs.books[sym] = b
	}
	return b
}

// Apply updates the book of t.Symbol. It returns a reject reason when the
// tick cannot be applied (an order the book does not hold, a full book); the
// book is then unchanged.
func (bs *Books) Apply(t *record.MarketTick) record.Reason {
	b := bs.Get(t.Symbol)
	if b == nil {
		return record.ReasonUnknownSymbol
	}
	switch t.Kind {
	case record.KindQuote:
		if int(t.Depth) >= MaxDepth {
			return record.ReasonBookFull
		}
		d := int(t.Depth)
		b.qBid[d] = quoteLevel(t.BidPx, t.BidQty)
		b.qAsk[d] = quoteLevel(t.AskPx, t.AskQty)
		if d+1 > b.qDepth {
			b.qDepth = d + 1
		}
	case record.KindClear:
		bs.clear(b)
	case record.KindOrder:
		r := bs.applyOrder(b, t)
		if r == record.ReasonNone && b.mbo {
			if bb, ok := b.bids.top(0); ok {
				if ba, ok := b.asks.top(0); ok && bb.Px >= ba.Px {
					bs.Crossed++
				}
			}
		}
		return r
	}
	return record.ReasonNone
}

func quoteLevel(px int64, qty uint32) Level {
	if px == record.UndefPrice || qty == 0 {
		return Level{}
	}
	return Level{Px: px, Qty: int64(qty)}
}

// clear empties b and drops its resting orders from the partition's order
// table (a sweep of the table: clears are rare, at session starts and
// recoveries). The epoch guards against any order the sweep could miss.
func (bs *Books) clear(b *Book) {
	if b.live > 0 {
		sym, epoch := b.Symbol, b.epoch
		bs.orders.Sweep(func(_ uint64, o *order) bool { return o.symbol != sym || o.epoch != epoch })
		b.live = 0
	}
	b.epoch++
	b.bids.lv = b.bids.lv[:0]
	b.asks.lv = b.asks.lv[:0]
	b.qBid, b.qAsk = [MaxDepth]Level{}, [MaxDepth]Level{}
	b.qDepth = 0
}

func (b *Book) sideOf(s uint8) *side {
	if s == record.SideBid {
		return &b.bids
	}
	return &b.asks
}

func (bs *Books) applyOrder(b *Book, t *record.MarketTick) record.Reason {
	if bs.orders == nil {
		// The order table is sized for a busy venue (MaxOrders); a partition
		// that never sees market-by-order data never pays for it.
		orders, err := table.New[order](bs.cfg.MaxOrders)
		if err != nil {
			return record.ReasonBookFull // unreachable: MaxOrders was validated
		}
		bs.orders = orders
	}
	if !b.mbo {
		b.mbo = true
		b.bids.lv = make([]Level, 0, b.maxLevels)
		b.asks.lv = make([]Level, 0, b.maxLevels)
	}
	switch t.Action {
	case record.ActionClear:
		bs.clear(b)
	case record.ActionAdd:
		if o := bs.live(b, t.OrderID); o != nil {
			// An add for a live id replaces it (a venue re-using the id).
			bs.unrest(b, t.OrderID, o)
		}
		return bs.rest(b, t)
	case record.ActionCancel:
		o := bs.live(b, t.OrderID)
		if o == nil {
			return record.ReasonUnknownOrder
		}
		qty := int64(t.Size)
		if qty == 0 || qty >= o.size {
			bs.unrest(b, t.OrderID, o)
			return record.ReasonNone
		}
		b.sideOf(o.side).remove(o.px, qty, 0)
		o.size -= qty
	case record.ActionModify:
		// Databento: a modify of an unknown order is an add.
		if o := bs.live(b, t.OrderID); o != nil {
			bs.unrest(b, t.OrderID, o)
		}
		if t.Size == 0 {
			return record.ReasonNone
		}
		return bs.rest(b, t)
	case record.ActionTrade, record.ActionFill, record.ActionNone:
		// Trades and fills do not change the book: the venue follows them
		// with cancels or modifies of the resting orders.
	}
	return record.ReasonNone
}

// rest puts the order of t on the book and in the order table, or neither.
func (bs *Books) rest(b *Book, t *record.MarketTick) record.Reason {
	if !b.sideOf(t.Side).add(t.Price, int64(t.Size)) {
		return record.ReasonBookFull
	}
	if !bs.orders.Put(t.OrderID, order{px: t.Price, size: int64(t.Size), symbol: t.Symbol, epoch: b.epoch, side: t.Side}) {
		b.sideOf(t.Side).remove(t.Price, int64(t.Size), 1)
		return record.ReasonBookFull
	}
	b.live++
	return record.ReasonNone
}

// unrest takes the live order o (id) off the book and out of the table.
func (bs *Books) unrest(b *Book, id uint64, o *order) {
	b.sideOf(o.side).remove(o.px, o.size, 1)
	bs.orders.Delete(id)
	b.live--
}

// live returns the resting order id of b, or nil if absent or from an
// earlier epoch of the book (before a clear).
func (bs *Books) live(b *Book, id uint64) *order {
	if bs.orders == nil {
		return nil
	}
	o := bs.orders.Get(id)
	if o == nil || o.symbol != b.Symbol || o.epoch != b.epoch {
		return nil
	}
	return o
}

// Orders returns the resting orders tracked across the partition
// (including stale ones from before a clear, until reused or cancelled).
func (bs *Books) Orders() int {
	if bs.orders == nil {
		return 0
	}
	return bs.orders.Len()
}

// Level returns the k-th best bid and ask (0 = best). A missing level has
// Px 0 and Qty 0.
func (b *Book) Level(k int) (bid, ask Level) {
	if b.mbo {
		bid, _ = b.bids.top(k)
		ask, _ = b.asks.top(k)
		return bid, ask
	}
	if k < MaxDepth {
		return b.qBid[k], b.qAsk[k]
	}
	return Level{}, Level{}
}

// Best returns the best bid and ask and whether both sides exist.
func (b *Book) Best() (bid, ask Level, ok bool) {
	bid, ask = b.Level(0)
	return bid, ask, bid.Qty > 0 && ask.Qty > 0
}

// Levels returns the number of price levels per side in the book.
func (b *Book) Levels() (bids, asks int) {
	if b.mbo {
		return len(b.bids.lv), len(b.asks.lv)
	}
	for k := 0; k < b.qDepth; k++ {
		if b.qBid[k].Qty > 0 {
			bids++
		}
		if b.qAsk[k].Qty > 0 {
			asks++
		}
	}
	return bids, asks
}

// DepthQty sums the quantity of the top n levels of each side.
func (b *Book) DepthQty(n int) (bid, ask int64) {
	for k := 0; k < n; k++ {
		bl, al := b.Level(k)
		bid += bl.Qty
		ask += al.Qty
	}
	return bid, ask
}
