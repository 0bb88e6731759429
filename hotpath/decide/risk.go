package decide

import (
	"cmp"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"thunderline/hotpath/record"
)

// RiskConfig is the risk policy of seed 004 §9.
type RiskConfig struct {
	// MaxPosition bounds the units held per symbol, long or short. Default 10.
	MaxPosition int64
	// TradeSize is the units a buy or sell decision trades. Default 1.
	TradeSize int64
	// MaxLoss: a symbol whose mark-to-market PnL falls below -MaxLoss is in
	// breach (price units × units). Default 0: no loss limit.
	MaxLoss float64
	// Interval is the breach interval, in event time. Default 1s.
	Interval time.Duration
	// BreachIntervals: after this many breach intervals in a row, experts
	// whose measured p99 latency exceeds HighLatency are forced to abstain
	// until an interval passes without breach. Default 3.
	BreachIntervals int
	// HighLatency is the p99 latency above which an expert counts as
	// high-latency. Default 100µs.
	HighLatency time.Duration
}

// WithDefaults fills zero fields.
func (c RiskConfig) WithDefaults() RiskConfig {
	c.MaxPosition = cmp.Or(c.MaxPosition, 10)
	c.TradeSize = cmp.Or(c.TradeSize, 1)
	c.Interval = cmp.Or(c.Interval, time.Second)
	c.BreachIntervals = cmp.Or(c.BreachIntervals, 3)
	c.HighLatency = cmp.Or(c.HighLatency, 100*time.Microsecond)
	return c
}

// Validate names the first bad field.
func (c RiskConfig) Validate() error {
	switch {
	case c.MaxPosition < 0:
		return fmt.Errorf("max_position %d: must not be negative", c.MaxPosition)
	case c.TradeSize < 1:
		return fmt.Errorf("trade_size %d: must be positive", c.TradeSize)
	case c.MaxLoss < 0:
		return fmt.Errorf("max_loss %v: must not be negative", c.MaxLoss)
	case c.Interval <= 0:
		return fmt.Errorf("interval %v: must be positive", c.Interval)
	case c.BreachIntervals < 1:
		return fmt.Errorf("breach_intervals %d: must be positive", c.BreachIntervals)
	case c.HighLatency <= 0:
		return fmt.Errorf("high_latency %v: must be positive", c.HighLatency)
	}
	return nil
}

// DenyList is the kill switch: a deny set of (tenant, symbol), plus a
// global halt. It is written by the control plane (admin HTTP, profile,
// in-band operator actions) and read by the decision stage, which
// re-resolves a symbol only when the list's version changed.
type DenyList struct {
	mu      sync.Mutex // writers
	m       sync.Map   // [2]string → struct{}
	n       atomic.Int64
	all     atomic.Bool
	version atomic.Uint64
}

// NewDenyList returns an empty list.
func NewDenyList() *DenyList { return &DenyList{} }

// MaxDenyEntries bounds the deny list: a deny past it is refused (the admin
// API answers 409; the kill switch halts everything anyway).
const MaxDenyEntries = 100_000

// Full reports whether one more (tenant, symbol) would pass MaxDenyEntries.
func (d *DenyList) Full(tenant, symbol string) bool {
	_, has := d.m.Load([2]string{tenant, symbol})
	return !has && d.n.Load() >= MaxDenyEntries
}

// Len is the number of denied pairs.
func (d *DenyList) Len() int { return int(d.n.Load()) }

// Set halts (deny true) or releases a (tenant, symbol); a deny past
// MaxDenyEntries is refused (false). Safe from any goroutine.
func (d *DenyList) Set(tenant, symbol string, deny bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := [2]string{tenant, symbol}
	_, has := d.m.Load(k)
	switch {
	case deny && !has:
		if d.n.Load() >= MaxDenyEntries {
			return false
		}
		d.m.Store(k, struct{}{})
		d.n.Add(1)
	case !deny && has:
		d.m.Delete(k)
		d.n.Add(-1)
	}
	d.version.Add(1)
	return true
}

// AllHalted reports whether the global kill switch is on.
func (d *DenyList) AllHalted() bool { return d.all.Load() }

// HaltAll turns the global kill switch on or off.
func (d *DenyList) HaltAll(on bool) { d.all.Store(on); d.version.Add(1) }

// Denied reports whether (tenant, symbol) is halted.
func (d *DenyList) Denied(tenant, symbol string) bool {
	if d.all.Load() {
		return true
	}
	_, ok := d.m.Load([2]string{tenant, symbol})
	return ok
}

// List returns the denied pairs (for the admin API).
func (d *DenyList) List() [][2]string {
	var out [][2]string
	d.m.Range(func(k, _ any) bool {
		out = append(out, k.([2]string))
		return true
	})
	return out
}

// Version changes whenever the list does.
func (d *DenyList) Version() uint64 { return d.version.Load() }

// risk applies the policy on the decision stage's goroutine.
type risk struct {
	cfg      RiskConfig
	deny     *DenyList
	tenant   string
	syms     *record.Symbols
	denyVer  []uint64 // per symbol: the list version its cached verdict is for (+1)
	denied   []bool
	interval int64 // current interval index
	started  bool
	breached bool // a breach happened in the current interval
	streak   int  // consecutive breach intervals
	forcing  bool
	// Counters, read by metrics.
	Breaches       atomic.Uint64 // decisions that breached
	BreachStreaks  atomic.Uint64 // times the streak reached BreachIntervals
	ForcingActive  atomic.Bool
	Streak         atomic.Int64  // consecutive breach intervals so far
	Flagged        atomic.Uint64 // decisions replaced by abstain
	HaltedDecision atomic.Uint64
}

func newRisk(cfg RiskConfig, deny *DenyList, tenant string, syms *record.Symbols) *risk {
	if deny == nil {
		deny = NewDenyList()
	}
	return &risk{cfg: cfg, deny: deny, tenant: tenant, syms: syms,
		denyVer: make([]uint64, record.MaxSymbols), denied: make([]bool, record.MaxSymbols)}
}

func (r *risk) halted(sym uint32) bool {
	v := r.deny.Version() + 1
	if r.denyVer[sym] != v {
		r.denied[sym] = r.deny.Denied(r.tenant, r.syms.Name(sym))
		r.denyVer[sym] = v
	}
	return r.denied[sym]
}

// advance moves the breach interval to event time end. It reports whether
// forcing changed (so the stage can force or release experts).
func (r *risk) advance(end int64) (changed bool) {
	iv := end / int64(r.cfg.Interval)
	if !r.started {
		r.started, r.interval = true, iv
		return false
	}
	for r.interval < iv {
		if r.breached {
			r.streak++
		} else {
			r.streak = 0
		}
		r.breached = false
		r.interval++
		if r.streak == 0 {
			// Intervals with no decision at all are clean too: skip ahead.
			r.interval = iv
		}
	}
	r.Streak.Store(int64(r.streak))
	force := r.streak >= r.cfg.BreachIntervals
	if force && !r.forcing {
		r.BreachStreaks.Add(1)
	}
	changed = force != r.forcing
	r.forcing = force
	r.ForcingActive.Store(force)
	return changed
}

// check returns the risk flags of a proposed action for sym holding pos at
// mid with symbol PnL pnl, and records breaches.
func (r *risk) check(sym uint32, proposed uint8, pos int64, mid, pnl float64) uint32 {
	var f uint32
	if r.halted(sym) {
		// A halted symbol does not trade, so it cannot breach a limit.
		r.HaltedDecision.Add(1)
		return f | RiskHalted
	}
	if mid <= 0 && (proposed == ActionBuy || proposed == ActionSell) {
		f |= RiskNoMarket
	}
	switch proposed {
	case ActionBuy:
		if pos+r.cfg.TradeSize > r.cfg.MaxPosition {
			f |= RiskPositionCap
		}
	case ActionSell:
		if pos-r.cfg.TradeSize < -r.cfg.MaxPosition {
			f |= RiskPositionCap
		}
	}
	// A breach is the loss limit crossed. A position at its cap is the
	// policy working (the order is refused and flagged), not an emergency.
	if r.cfg.MaxLoss > 0 && pnl < -r.cfg.MaxLoss {
		r.breached = true
		r.Breaches.Add(1)
	}
	return f
}
