package expert

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strings"

	"thunderline/hotpath/window"
)

// The three rule-based action heads. Each reads only Input.Features
// (InDim 0), keeps no state (so Eval is safe from several goroutines at
// once), and abstains when the window has no valid book (mid <= 0) or a
// feature it reads is NaN or infinite.
//
// Units, as hotpath/window computes them: mid_return and realized_vol are
// fractions (0.001 = 10 bps), spread_bps is in basis points of the mid,
// tob_imbalance is in [-1, 1], ofi is in quantity units.
//
// Each maps a signed signal s in [-1, 1] to scores the same way:
//
//	buy = max(s, 0), sell = max(-s, 0), hold = 1 - |s|
//
// so the scores are a probability distribution and a zero signal is a
// certain hold.

const (
	defaultThresholdBps = 5
	defaultVolFloor     = 1e-6
	defaultZEntry       = 2
	defaultMaxSpreadBps = 10
	defaultOFIScale     = 100
	defaultFlowWeight   = 0.5
)

// signedScores writes the scores of a signal s in [-1, 1] and conf.
func signedScores(out *Output, s, conf float64) {
	if s >= 0 {
		out.setAction(s, 0, 1-s, conf)
	} else {
		out.setAction(0, -s, 1+s, conf)
	}
}

// validPositive reports whether v is finite and > 0, else an error naming
// field.
func validPositive(field string, v float64) error {
	if !finite(v) || v <= 0 {
		return fmt.Errorf("%s: %v: want a finite value > 0", field, v)
	}
	return nil
}

// validNonNegative reports whether v is finite and >= 0, else an error
// naming field.
func validNonNegative(field string, v float64) error {
	if !finite(v) || v < 0 {
		return fmt.Errorf("%s: %v: want a finite value >= 0", field, v)
	}
	return nil
}

// firstErr is the first of errs that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// head is what the three heads share: a kind, a name, a configuration
// with its defaults applied, no input embedding and no output embedding.
type head[C any] struct {
	kind, name string
	cfg        C
}

func (h *head[C]) Name() string { return h.name }
func (h *head[C]) Kind() string { return h.kind }
func (h *head[C]) InDim() int   { return 0 }
func (h *head[C]) OutDim() int  { return 0 }

// Config is the expert's configuration, with defaults applied.
func (h *head[C]) Config() C { return h.cfg }

func (h *head[C]) init(kind, name string, cfg C) { h.kind, h.name, h.cfg = kind, name, cfg }

// newHead returns a head H of kind named name, of configuration cfg with
// its defaults, or an error naming the expert and the bad field.
func newHead[H any, C any, PH interface {
	*H
	init(string, string, C)
}, PC interface {
	*C
	defaults()
	Validate() error
}](kind, name string, cfg C) (*H, error) {
	PC(&cfg).defaults()
	if err := PC(&cfg).Validate(); err != nil {
		return nil, fmt.Errorf("%s expert %q: %w", strings.ReplaceAll(kind, "_", " "), name, err)
	}
	h := PH(new(H))
	h.init(kind, name, cfg)
	return h, nil
}

// usable reports whether a head may read a window: a valid book (mid > 0)
// and every feature fs it uses finite. Otherwise it sets out to abstain.
func usable(out *Output, mid float64, fs ...float64) bool {
	ok := mid > 0 && finite(mid)
	for _, f := range fs {
		ok = ok && finite(f)
	}
	if !ok {
		out.SetAbstain()
	}
	return ok
}

// MomentumConfig configures Momentum. Zero fields take their defaults.
type MomentumConfig struct {
	// ThresholdBps scales the mid return: a return of ThresholdBps basis
	// points gives a signal of tanh(1) ≈ 0.76. Default 5.
	ThresholdBps float64
	// VolFloor is the smallest realized volatility (a fraction, like
	// realized_vol) used as the denominator of |return|/vol, so a window
	// with a single price move does not divide by zero. Default 1e-6.
	VolFloor float64
}

func (c *MomentumConfig) defaults() {
	c.ThresholdBps = cmp.Or(c.ThresholdBps, defaultThresholdBps)
	c.VolFloor = cmp.Or(c.VolFloor, defaultVolFloor)
}

// Validate reports the first invalid field, after defaults.
func (c MomentumConfig) Validate() error {
	c.defaults()
	return firstErr(validPositive("threshold_bps", c.ThresholdBps), validPositive("vol_floor", c.VolFloor))
}

// Momentum follows the window's mid return.
//
//	r = mid_return, vol = max(realized_vol, VolFloor)
//	s = tanh(r·1e4 / ThresholdBps)          signal in (-1, 1)
//	q = |r| / vol,  confidence = q / (1 + q)
//
// Scores follow s (buy when the mid rose); the confidence rises with the
// size of the return relative to the volatility inside the window.
type Momentum struct{ head[MomentumConfig] }

// NewMomentum returns a Momentum expert named name.
func NewMomentum(name string, cfg MomentumConfig) (*Momentum, error) {
	return newHead[Momentum](KindMomentum, name, cfg)
}

func (m *Momentum) Eval(in *Input, out *Output) {
	r, vol := in.Feature(window.FMidReturn), in.Feature(window.FRealizedVol)
	if !usable(out, in.Feature(window.FMid), r, vol) {
		return
	}
	s := detTanh(float64(r*1e4) / m.cfg.ThresholdBps)
	q := math.Abs(r) / max(vol, m.cfg.VolFloor)
	signedScores(out, s, q/(1+q))
}

// MeanReversionConfig configures MeanReversion. Zero fields take their
// defaults.
type MeanReversionConfig struct {
	// ZEntry is the size of the return relative to realized volatility,
	// |r|/vol, above which the expert fades it. Default 2.
	ZEntry float64
	// MaxSpreadBps is the spread, in bps, at or above which the book is not
	// tight enough to fade anything. Default 10.
	MaxSpreadBps float64
	// VolFloor is the smallest volatility used in |r|/vol. Default 1e-6.
	VolFloor float64
}

func (c *MeanReversionConfig) defaults() {
	c.ZEntry = cmp.Or(c.ZEntry, defaultZEntry)
	c.MaxSpreadBps = cmp.Or(c.MaxSpreadBps, defaultMaxSpreadBps)
	c.VolFloor = cmp.Or(c.VolFloor, defaultVolFloor)
}

// Validate reports the first invalid field, after defaults.
func (c MeanReversionConfig) Validate() error {
	c.defaults()
	return firstErr(validPositive("z_entry", c.ZEntry), validPositive("max_spread_bps", c.MaxSpreadBps),
		validPositive("vol_floor", c.VolFloor))
}

// MeanReversion fades a return that is large relative to realized
// volatility while the spread is tight.
//
//	r = mid_return, q = |r| / max(realized_vol, VolFloor), sp = spread_bps
//	outside the regime (q <= ZEntry, or sp < 0, or sp >= MaxSpreadBps):
//	    hold = 1, confidence 0
//	otherwise:
//	    e = q - ZEntry, s = e / (1 + e)          strength in (0, 1)
//	    sell = s if r > 0, buy = s if r < 0, hold = 1 - s
//	    confidence = s · (1 - sp/MaxSpreadBps)
type MeanReversion struct{ head[MeanReversionConfig] }

// NewMeanReversion returns a MeanReversion expert named name.
func NewMeanReversion(name string, cfg MeanReversionConfig) (*MeanReversion, error) {
	return newHead[MeanReversion](KindMeanReversion, name, cfg)
}

func (m *MeanReversion) Eval(in *Input, out *Output) {
	r, vol, sp := in.Feature(window.FMidReturn), in.Feature(window.FRealizedVol), in.Feature(window.FSpreadBps)
	if !usable(out, in.Feature(window.FMid), r, vol, sp) {
		return
	}
	q := math.Abs(r) / max(vol, m.cfg.VolFloor)
	if q <= m.cfg.ZEntry || sp < 0 || sp >= m.cfg.MaxSpreadBps {
		out.setAction(0, 0, 1, 0)
		return
	}
	e := q - m.cfg.ZEntry
	s := e / (1 + e)
	conf := float64(s * (1 - sp/m.cfg.MaxSpreadBps))
	if r > 0 {
		out.setAction(0, s, 1-s, conf)
	} else {
		out.setAction(s, 0, 1-s, conf)
	}
}

// OrderFlowConfig configures OrderFlow. Zero fields take their defaults;
// the two weights take theirs only when both are zero.
type OrderFlowConfig struct {
	// OFIScale is the order-flow imbalance, in quantity units, that gives a
	// flow term of tanh(1) ≈ 0.76. Default 100.
	OFIScale float64
	// WeightOFI and WeightTob weigh the flow term and the top-of-book
	// imbalance. Both >= 0 with a sum <= 1, so the signal stays in [-1, 1].
	// Default 0.5 each.
	WeightOFI float64
	WeightTob float64
}

func (c *OrderFlowConfig) defaults() {
	c.OFIScale = cmp.Or(c.OFIScale, defaultOFIScale)
	if c.WeightOFI == 0 && c.WeightTob == 0 {
		c.WeightOFI, c.WeightTob = defaultFlowWeight, defaultFlowWeight
	}
}

// Validate reports the first invalid field, after defaults.
func (c OrderFlowConfig) Validate() error {
	c.defaults()
	if err := firstErr(validPositive("ofi_scale", c.OFIScale), validNonNegative("weight_ofi", c.WeightOFI),
		validNonNegative("weight_tob", c.WeightTob)); err != nil {
		return err
	}
	if c.WeightOFI+c.WeightTob > 1 {
		return errors.New("weight_ofi + weight_tob: want a sum <= 1")
	}
	return nil
}

// OrderFlow follows order-flow imbalance and top-of-book imbalance.
//
//	f = tanh(ofi / OFIScale)                   flow term in (-1, 1)
//	t = clamp(tob_imbalance, -1, 1)
//	s = WeightOFI·f + WeightTob·t              signal in [-1, 1]
//	confidence = |s|
type OrderFlow struct{ head[OrderFlowConfig] }

// NewOrderFlow returns an OrderFlow expert named name.
func NewOrderFlow(name string, cfg OrderFlowConfig) (*OrderFlow, error) {
	return newHead[OrderFlow](KindOrderFlow, name, cfg)
}

func (o *OrderFlow) Eval(in *Input, out *Output) {
	ofi, tob := in.Feature(window.FOFI), in.Feature(window.FTobImbalance)
	if !usable(out, in.Feature(window.FMid), ofi, tob) {
		return
	}
	f := detTanh(ofi / o.cfg.OFIScale)
	t := min(max(tob, -1), 1)
	// Both products rounded before the sum: no FMA.
	s := float64(o.cfg.WeightOFI*f) + float64(o.cfg.WeightTob*t)
	s = min(max(s, -1), 1)
	signedScores(out, s, math.Abs(s))
}
