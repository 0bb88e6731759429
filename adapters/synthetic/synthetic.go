package synthetic

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"thunderline/hotpath/record"
)

// Config shapes the feed. Zero fields take the defaults in brackets.
type Config struct {
	Seed    uint64  // [1]
	Symbols int     // number of symbols [16]
	Prefix  string  // symbol names are Prefix + index ["SYN"]
	Venue   uint16  // [1]
	Depth   int     // book levels quoted [10]
	Rate    float64 // ticks per second of event time, outside bursts [100000]
	// Start is the event time of the first tick, ns since the epoch
	// [2024-01-02T14:30:00Z].
	Start int64
	// TradeRatio is the share of ticks that are trades [0.1].
	TradeRatio float64
	// BurstEvery, BurstLength and BurstMultiplier: every BurstEvery of event
	// time, for BurstLength, the rate is multiplied [5s, 500ms, 10].
	BurstEvery      time.Duration
	BurstLength     time.Duration
	BurstMultiplier float64
	// NoBursts turns bursts off.
	NoBursts bool
	// BadRatio is the share of ticks made invalid on purpose (crossed
	// quotes, zero sizes) [0].
	BadRatio float64
	// MaxTicks ends the feed after this many ticks; 0 is endless.
	MaxTicks uint64
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	c.Seed = cmp.Or(c.Seed, 1)
	c.Symbols = cmp.Or(c.Symbols, 16)
	c.Prefix = cmp.Or(c.Prefix, "SYN")
	c.Venue = cmp.Or(c.Venue, 1)
	c.Depth = cmp.Or(c.Depth, 10)
	c.Rate = cmp.Or(c.Rate, 100_000)
	c.Start = cmp.Or(c.Start, time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC).UnixNano())
	c.TradeRatio = cmp.Or(c.TradeRatio, 0.1)
	c.BurstEvery = cmp.Or(c.BurstEvery, 5*time.Second)
	c.BurstLength = cmp.Or(c.BurstLength, 500*time.Millisecond)
	c.BurstMultiplier = cmp.Or(c.BurstMultiplier, 10)
	return c
}

// MaxRate bounds Config.Rate (ticks a second).
const MaxRate = 1e9

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case c.Symbols < 1 || c.Symbols >= record.MaxSymbols:
		return fmt.Errorf("symbols %d: must be between 1 and %d", c.Symbols, record.MaxSymbols-1)
	case c.Depth < 1 || c.Depth > 32:
		return fmt.Errorf("depth %d: must be between 1 and 32", c.Depth)
	case !(c.Rate > 0) || c.Rate > MaxRate:
		return fmt.Errorf("rate %v: must be a positive number up to %g ticks/s", c.Rate, float64(MaxRate))
	case c.TradeRatio < 0 || c.TradeRatio > 1:
		return fmt.Errorf("trade_ratio %v: must be between 0 and 1", c.TradeRatio)
	case c.BadRatio < 0 || c.BadRatio > 1:
		return fmt.Errorf("bad_ratio %v: must be between 0 and 1", c.BadRatio)
	case !c.NoBursts && (c.BurstEvery <= 0 || c.BurstLength <= 0 || c.BurstLength >= c.BurstEvery):
		return fmt.Errorf("burst_length %v: must be positive and shorter than burst_every %v", c.BurstLength, c.BurstEvery)
	case !c.NoBursts && (!(c.BurstMultiplier >= 1) || c.BurstMultiplier > 10_000):
		return fmt.Errorf("burst_multiplier %v: must be between 1 and 10000", c.BurstMultiplier)
	}
	return nil
}

type symbol struct {
	id   uint32
	mid  int64 // in ticks of tickSize, times 2 (so the mid can sit on a half tick)
	seq  uint64
	tick int64 // price increment, 1e-9 units
}

// Feed generates ticks. Not safe for concurrent use.
type Feed struct {
	cfg  Config
	rng  *rand.Rand
	syms []symbol
	cum  []float64 // cumulative activity weights
	ts   int64
	n    uint64
}

// New returns a feed; it interns its symbols in syms.
func New(cfg Config, syms *record.Symbols) (*Feed, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("synthetic feed: %w", err)
	}
	f := &Feed{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), ts: cfg.Start}
	total := 0.0
	for i := 0; i < cfg.Symbols; i++ {
		id, err := syms.Intern(fmt.Sprintf("%s%03d", cfg.Prefix, i))
		if err != nil {
			return nil, fmt.Errorf("synthetic feed: %w", err)
		}
		tick := record.PriceScale / 100 // 0.01
		if i%3 == 0 {
			tick = record.PriceScale / 4 // 0.25, futures-like
		}
		base := int64(20+f.rng.IntN(5000)) * record.PriceScale
		f.syms = append(f.syms, symbol{id: id, mid: 2 * (base / tick), tick: tick})
		total += 1 / math.Pow(float64(i+1), 1.1)
		f.cum = append(f.cum, total)
	}
	for i := range f.cum {
		f.cum[i] /= total
	}
	return f, nil
}

// Config returns the feed's configuration with defaults.
func (f *Feed) Config() Config { return f.cfg }

// Count returns the ticks generated so far.
func (f *Feed) Count() uint64 { return f.n }

// InBurst reports whether event time ts falls in a burst.
func (f *Feed) InBurst(ts int64) bool {
	if f.cfg.NoBursts {
		return false
	}
	return (ts-f.cfg.Start)%int64(f.cfg.BurstEvery) >= int64(f.cfg.BurstEvery-f.cfg.BurstLength)
}

func (f *Feed) pick() *symbol {
	u := f.rng.Float64()
	lo, hi := 0, len(f.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if f.cum[m] < u {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return &f.syms[lo]
}

// Next fills dst with the next ticks and returns how many. It returns 0 only
// when MaxTicks is reached. It never allocates.
func (f *Feed) Next(dst []record.MarketTick) (int, error) {
	n := 0
	for n < len(dst) {
		if f.cfg.MaxTicks > 0 && f.n >= f.cfg.MaxTicks {
			break
		}
		rate := f.cfg.Rate
		burst := f.InBurst(f.ts)
		if burst {
			rate *= f.cfg.BurstMultiplier
		}
		f.ts += int64(f.rng.ExpFloat64() / rate * 1e9)
		s := f.pick()
		s.seq++
		t := &dst[n]
		*t = record.MarketTick{TsEvent: f.ts, TsRecv: f.ts + 20_000, Seq: s.seq, Symbol: s.id, Venue: f.cfg.Venue}
		if burst {
			t.Flags |= record.FlagBurst
		}
		// The mid walks by half ticks.
		if f.rng.IntN(8) == 0 {
			if f.rng.IntN(2) == 0 {
				s.mid++
			} else if s.mid > 40 {
				s.mid--
			}
		}
		if f.rng.Float64() < f.cfg.TradeRatio {
			f.trade(t, s)
		} else {
			f.quote(t, s)
		}
		if f.cfg.BadRatio > 0 && f.rng.Float64() < f.cfg.BadRatio {
			f.spoil(t)
		}
		f.n++
		n++
	}
	return n, nil
}

// bidAsk returns the bid and ask of a level around the mid. The mid is kept
// in half ticks: a mid between two ticks quotes a one-tick spread, a mid on
// a tick quotes two ticks.
func (s *symbol) bidAsk(level int) (bid, ask int64) {
	lo := s.mid / 2       // floor in ticks
	hi := (s.mid + 1) / 2 // ceil in ticks
	if lo == hi {
		lo--
		hi++
	}
	return (lo - int64(level)) * s.tick, (hi + int64(level)) * s.tick
}

func (f *Feed) quote(t *record.MarketTick, s *symbol) {
	level := 0
	for level < f.cfg.Depth-1 && f.rng.IntN(3) == 0 {
		level++
	}
	bid, ask := s.bidAsk(level)
	t.Kind = record.KindQuote
	t.Depth = uint8(level)
	t.BidPx, t.AskPx = bid, ask
	t.BidQty = uint32(1 + f.rng.IntN(50*(level+1)))
	t.AskQty = uint32(1 + f.rng.IntN(50*(level+1)))
	t.Flags |= record.FlagMBP
	if level == 0 {
		t.Flags |= record.FlagTOB
	}
}

func (f *Feed) trade(t *record.MarketTick, s *symbol) {
	bid, ask := s.bidAsk(0)
	t.Kind = record.KindTrade
	if f.rng.IntN(2) == 0 {
		t.Side, t.TradePx = record.SideAsk, ask // buyer lifts the offer: aggressor ask side per DBN convention
	} else {
		t.Side, t.TradePx = record.SideBid, bid
	}
	t.TradeQty = uint32(1 + f.rng.IntN(20))
}

// spoil makes t invalid in one of the ways the validator must catch.
func (f *Feed) spoil(t *record.MarketTick) {
	switch f.rng.IntN(3) {
	case 0:
		if t.Kind == record.KindQuote {
			t.BidPx, t.AskPx = t.AskPx, t.BidPx // crossed
			return
		}
		t.TradeQty = 0
	case 1:
		if t.Kind == record.KindQuote {
			t.BidQty = 0
			return
		}
		t.TradePx = -t.TradePx
	default:
		t.Symbol = 0 // unknown symbol
	}
}
