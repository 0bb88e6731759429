package normalize

import (
	"cmp"
	"fmt"
	"sync/atomic"

	"thunderline/hotpath/enum"
	"thunderline/hotpath/record"
	"thunderline/hotpath/table"
)

// SeqMode says how sequence numbers are checked per (venue, symbol).
type SeqMode uint8

const (
	// SeqOff does not look at sequence numbers.
	SeqOff SeqMode = iota
	// SeqContiguous expects each (venue, symbol) to count up by one; an equal
	// number is allowed (several ticks of one venue message share it).
	SeqContiguous
	// SeqMonotonic expects sequence numbers never to go down; jumps are
	// normal (a venue channel numbers messages across many symbols, as CME
	// MDP3 does), so only regressions are reported.
	SeqMonotonic
)

var seqModeNames = enum.Names[SeqMode]{SeqOff: "off", SeqContiguous: "contiguous", SeqMonotonic: "monotonic"}

// ParseSeqMode maps a profile value to a SeqMode.
func ParseSeqMode(s string) (SeqMode, error) { return seqModeNames.Parse("sequence mode", s) }

// Config sets the validation rules.
type Config struct {
	// MinPrice and MaxPrice bound every price, in 1e-9 units, inclusive.
	// Defaults: 1 (prices must be positive) and 1e16 (ten million).
	// Set MinPrice negative for instruments that trade below zero (spreads).
	MinPrice, MaxPrice int64
	// Seq is how sequence numbers are checked. Default SeqOff.
	Seq SeqMode
	// SeqCapacity bounds the (venue, symbol) pairs tracked. Default 65536.
	SeqCapacity int
}

// WithDefaults fills zero fields with their defaults.
func (c Config) WithDefaults() Config {
	if c.MinPrice == 0 && c.MaxPrice == 0 {
		c.MinPrice, c.MaxPrice = 1, 10_000_000*record.PriceScale
	}
	c.SeqCapacity = cmp.Or(c.SeqCapacity, 1<<16)
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.MinPrice > c.MaxPrice {
		return fmt.Errorf("min_price %d is above max_price %d", c.MinPrice, c.MaxPrice)
	}
	if c.Seq > SeqMonotonic {
		return fmt.Errorf("seq mode %d: unknown", c.Seq)
	}
	if c.SeqCapacity < 1 {
		return fmt.Errorf("seq_capacity %d: must be positive", c.SeqCapacity)
	}
	return nil
}

// Universe says which symbol ids are admitted. The goroutine that interns
// symbols admits them before the first tick that names them goes on a ring;
// partitions read it. An empty universe (Admit never called) with Open set
// admits every known, non-zero id.
type Universe struct {
	// Open admits any non-zero id below MaxSymbols.
	Open    bool
	allowed []atomic.Bool
}

// NewUniverse returns a universe admitting no symbol, or every symbol if open.
func NewUniverse(open bool) *Universe {
	return &Universe{Open: open, allowed: make([]atomic.Bool, record.MaxSymbols)}
}

// Admit lets ticks of id through.
func (u *Universe) Admit(id uint32) {
	if id < record.MaxSymbols {
		u.allowed[id].Store(true)
	}
}

// Admitted reports whether ticks of id pass.
func (u *Universe) Admitted(id uint32) bool {
	if id == 0 || id >= record.MaxSymbols {
		return false
	}
	return u.Open || u.allowed[id].Load()
}

// Validator checks ticks for one partition. Not safe for concurrent use.
type Validator struct {
	cfg  Config
	uni  *Universe
	seqs *table.Table[uint64]
	// SeqFull counts ticks whose (venue, symbol) could not be tracked because
	// the sequence table was full.
	SeqFull uint64
}

// NewValidator returns a validator; cfg is taken with defaults.
func NewValidator(cfg Config, uni *Universe) (*Validator, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("normalize config: %w", err)
	}
	if uni == nil {
		uni = NewUniverse(true)
	}
	seqs, err := table.New[uint64](cfg.SeqCapacity)
	if err != nil {
		return nil, fmt.Errorf("normalize config: %w", err)
	}
	return &Validator{cfg: cfg, uni: uni, seqs: seqs}, nil
}

func (v *Validator) priceOK(px int64) bool {
	return px != record.UndefPrice && px >= v.cfg.MinPrice && px <= v.cfg.MaxPrice
}

// Check validates t. reject is ReasonNone if t may go on, or why it must
// not. anomaly is a sequence gap or regression seen on t (reported, but no
// reason to refuse it), with detail the sequence number expected. Both can
// be set: a refused tick still carries a venue sequence number, so it
// advances the (venue, symbol) sequence like any other message.
func (v *Validator) Check(t *record.MarketTick) (reject, anomaly record.Reason, detail int64) {
	anomaly, detail = v.checkSeq(t)
	return v.checkFields(t), anomaly, detail
}

func (v *Validator) checkFields(t *record.MarketTick) record.Reason {
	if t.Kind == record.KindWatermark {
		return record.ReasonNone
	}
	if !v.uni.Admitted(t.Symbol) {
		return record.ReasonUnknownSymbol
	}
	switch t.Kind {
	case record.KindQuote:
		bid := t.BidPx != record.UndefPrice
		ask := t.AskPx != record.UndefPrice
		if bid && (!v.priceOK(t.BidPx)) || ask && !v.priceOK(t.AskPx) {
			return record.ReasonBadPrice
		}
		if bid && t.BidQty == 0 || ask && t.AskQty == 0 {
			return record.ReasonBadSize
		}
		if bid && ask {
			if t.BidPx > t.AskPx {
				return record.ReasonCrossed
			}
			if t.BidPx == t.AskPx {
				return record.ReasonLocked
			}
		}
	case record.KindTrade:
		if !v.priceOK(t.TradePx) {
			return record.ReasonBadPrice
		}
		if t.TradeQty == 0 {
			return record.ReasonBadSize
		}
	case record.KindOrder:
		switch t.Action {
		case record.ActionAdd, record.ActionModify, record.ActionCancel:
			if t.Side != record.SideBid && t.Side != record.SideAsk {
				return record.ReasonBadAction
			}
			if !v.priceOK(t.Price) {
				return record.ReasonBadPrice
			}
			if t.Size == 0 && t.Action == record.ActionAdd {
				return record.ReasonBadSize
			}
		case record.ActionTrade, record.ActionFill:
			if !v.priceOK(t.Price) {
				return record.ReasonBadPrice
			}
			if t.Size == 0 {
				return record.ReasonBadSize
			}
		case record.ActionNone, record.ActionClear:
		default:
			return record.ReasonBadAction
		}
	case record.KindClear:
	default:
		return record.ReasonBadAction
	}
	return record.ReasonNone
}

func (v *Validator) checkSeq(t *record.MarketTick) (record.Reason, int64) {
	// A tick of no known symbol cannot be attributed to a sequence: it is
	// rejected (unknown_symbol) without touching any.
	if v.cfg.Seq == SeqOff || t.Kind == record.KindWatermark || t.Flags&record.FlagSeqUnknown != 0 || t.Symbol == 0 {
		return record.ReasonNone, 0
	}
	key := uint64(t.Venue)<<32 | uint64(t.Symbol)
	if t.Flags&record.FlagSnapshot != 0 {
		// Records of a book snapshot (a venue replay at session start or
		// after a recovery) carry sequence numbers of the snapshot channel,
		// in no order: not checked, and the live stream after the snapshot
		// starts a new sequence.
		v.seqs.Delete(key)
		return record.ReasonNone, 0
	}
	last := v.seqs.Get(key)
	if last == nil {
		if !v.seqs.Put(key, t.Seq) {
			v.SeqFull++
		}
		return record.ReasonNone, 0
	}
	prev := *last
	switch {
	case t.Seq < prev:
		*last = t.Seq
		return record.ReasonSeqRegress, int64(prev)
	case v.cfg.Seq == SeqContiguous && t.Seq > prev+1:
		*last = t.Seq
		return record.ReasonSeqGap, int64(prev + 1)
	}
	*last = t.Seq
	return record.ReasonNone, 0
}
