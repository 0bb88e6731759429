package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"thunderline/actors/chief"
	"thunderline/engine/routermodel"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
)

// Ladder drives the backpressure ladder (seed 004 §9) from the pipeline's
// measurements, once per cadence interval, and applies its actions the way
// every output-changing control is applied: in band, journaled at their
// place in the input, so a replay of the journal makes the same windows and
// decisions.
//
//   - steps 4 and 5 (coarse, core recipe): a recipe control to every
//     partition; windows closing after it carry the new recipe;
//   - step 3 (lower p): a new router version with every layer's p lowered
//     (never below the floor), swapped in band;
//   - steps 1 and 2 (widen the window +50 %, drop the overlap): a window
//     control moves the grid of every partition and of the watermark at the
//     current boundary; windows open then finish on their own bounds;
//   - step 6 (breach streak): experts whose p99 latency, measured here on
//     the control plane, exceeds the risk policy's high_latency are forced
//     to abstain by in-band operator actions (breach_force), released
//     (breach_release) when the step ends: the stage never reads the wall
//     clock, so a replay decides the same.
type Ladder struct {
	p   *Pipeline
	l   *chief.Ladder
	cfg LadderConfig

	mu        sync.Mutex
	prevPairs float64
	prevToks  uint64
	recipe    string
	pDelta    float64
	factor    float64 // window length factor in force
	forcing   bool    // step 6 in force
	forced    []decide.Op
	overlap0  bool
	base      uint64 // router version the p cuts are derived from
	// Counters and state for metrics (read by other goroutines).
	Step        atomic.Int64
	Changes     atomic.Uint64
	ActionsSent atomic.Uint64
	lastEvent   atomic.Pointer[chief.Event]
}

// LadderConfig sets the ladder's inputs.
type LadderConfig struct {
	Chief chief.Config
	// PlannedExpertsPerToken is the router's planned load (condition 3
	// compares the measured mean with it + 0.3) [2.5].
	PlannedExpertsPerToken float64
	// OnEvent, when set, receives each step change (published to link and
	// the dashboard by the caller).
	OnEvent func(chief.Event)
}

// NewLadder returns the pipeline's ladder.
func (p *Pipeline) NewLadder(cfg LadderConfig) (*Ladder, error) {
	if cfg.PlannedExpertsPerToken == 0 {
		cfg.PlannedExpertsPerToken = 2.5
	}
	l, err := chief.NewLadder(cfg.Chief)
	if err != nil {
		return nil, err
	}
	return &Ladder{p: p, l: l, cfg: cfg, recipe: p.wcfg.Recipe.String(), factor: 1}, nil
}

// Measure samples the pipeline for one interval: lag (realtime runs), ring
// backlog in partition batches (256 ticks), experts per token over the
// interval, and the risk breach streak.
func (d *Ladder) Measure(start time.Time) chief.Sample {
	p := d.p
	pr := p.Snapshot(start)
	s := chief.Sample{LagP95: pr.Lag, TargetWindow: p.wcfg.Length, Backlog: int(pr.Backlog / 256),
		Concurrency: len(p.parts), PlannedExpertsPerToken: d.cfg.PlannedExpertsPerToken}
	if st := p.stage; st != nil {
		lm := &st.Metrics().Layers[0]
		toks, pairs := lm.Tokens.Load(), lm.Pairs.Load()
		d.mu.Lock()
		if toks > d.prevToks {
			s.ExpertsPerToken = (pairs - d.prevPairs) / float64(toks-d.prevToks)
		}
		d.prevToks, d.prevPairs = toks, pairs
		d.mu.Unlock()
		s.BreachIntervals = st.BreachStreak()
	}
	return s
}

// Observe feeds one interval's sample to the ladder and applies the change
// of actions, if any.
func (d *Ladder) Observe(s chief.Sample) chief.Decision {
	dec := d.l.Observe(s)
	d.Step.Store(int64(dec.Step))
	if !dec.Changed {
		return dec
	}
	d.Changes.Add(1)
	if ev, ok := dec.Event(); ok {
		d.lastEvent.Store(&ev)
		if d.cfg.OnEvent != nil {
			d.cfg.OnEvent(ev)
		}
	}
	d.apply(dec.Actions)
	return dec
}

// LastEvent is the latest step change (nil before the first).
func (d *Ladder) LastEvent() *chief.Event { return d.lastEvent.Load() }

func (d *Ladder) apply(a chief.Actions) {
	p := d.p
	d.mu.Lock()
	defer d.mu.Unlock()
	factor := a.WindowFactor
	if factor == 0 {
		factor = 1
	}
	if factor != d.factor || a.Overlap0 != d.overlap0 {
		base := p.wcfg
		overlap := base.Overlap
		if a.Overlap0 {
			overlap = 0
		}
		length := int64(float64(base.Length) * factor)
		if p.sendControl(record.MarketTick{Kind: record.KindControl, Action: record.ControlWindow,
			Price: length, Size: uint32(overlap * 1e6)}) == nil {
			d.factor, d.overlap0 = factor, a.Overlap0
			d.ActionsSent.Add(1)
		}
	}
	want := a.Recipe
	if want == chief.RecipeFull || want == "" {
		want = p.wcfg.Recipe.String() // "normal" is the profile's own recipe
	}
	if want != d.recipe {
		if r, err := window.ParseRecipe(want); err == nil && p.sendControl(record.MarketTick{Kind: record.KindControl,
			Action: record.ControlRecipe, Seq: uint64(r)}) == nil {
			d.recipe = want
			d.ActionsSent.Add(1)
		}
	}
	if a.ForceAbstainHighLatency != d.forcing && p.stage != nil {
		d.forceHighLatency(a.ForceAbstainHighLatency)
	}
	if a.PDelta != d.pDelta && p.stage != nil {
		cur := p.lastVersion.Load()
		if d.pDelta == 0 {
			d.base = cur
		}
		if err := d.reloadP(a, cur); err == nil {
			d.pDelta = a.PDelta
			d.ActionsSent.Add(1)
		} else {
			p.log.Warn("ladder: lowering p refused", "err", err)
		}
	}
}

// forceHighLatency starts step 6 (on: every expert of the router version
// in use whose measured p99 is over the risk policy's high_latency is
// forced, in band) or ends it (the same experts released).
func (d *Ladder) forceHighLatency(on bool) {
	p := d.p
	d.forcing = on
	if !on {
		for _, op := range d.forced {
			op.Kind = decide.OpBreachRelease
			if err := p.Operate(op); err != nil {
				p.log.Warn("ladder: releasing a forced expert refused", "expert", op.Expert, "err", err)
			}
		}
		d.forced = d.forced[:0]
		return
	}
	high := routermodel.RiskConfig(p.prof.Risk).WithDefaults().HighLatency
	m := p.stage.Current()
	for l := range m.Layers {
		for _, g := range m.Layers[l].Experts {
			if st := g.Stats(); st.Samples > 0 && st.P99 > high {
				op := decide.Op{Kind: decide.OpBreachForce, Layer: l, Expert: g.Name()}
				if err := p.Operate(op); err != nil {
					p.log.Warn("ladder: forcing a slow expert refused", "expert", op.Expert, "err", err)
					continue
				}
				d.forced = append(d.forced, op)
				d.ActionsSent.Add(1)
			}
		}
	}
}

// reloadP swaps in the base router with every layer's p set by the
// ladder's actions.
func (d *Ladder) reloadP(a chief.Actions, cur uint64) error {
	p := d.p
	v, ok := p.routerCfgs.Load(d.base)
	if !ok {
		return fmt.Errorf("router version %d has no config", d.base)
	}
	rc := routerCopy(v)
	for i := range rc.Layers {
		rc.Layers[i].P = a.P(rc.Layers[i].P)
	}
	rc.Version = cur + 1
	return p.ReloadRouter(rc)
}

// sendControl queues a control for the reader to apply in band.
func (p *Pipeline) sendControl(t record.MarketTick) error {
	if p.controls == nil {
		return fmt.Errorf("controls: the pipeline has no decision stage")
	}
	select {
	case p.controls <- t:
		return nil
	default:
		return fmt.Errorf("controls: too many waiting for the reader")
	}
}

// RunLadder builds the ladder from the profile and drives it every interval
// until ctx is done (the chief's cadence in a live run).
func (p *Pipeline) RunLadder(ctx interface{ Done() <-chan struct{} }, onEvent func(chief.Event)) (*Ladder, error) {
	lc := p.prof.Ladder
	l, err := p.NewLadder(LadderConfig{Chief: chief.Config{UpAfter: lc.UpAfter, DownAfter: lc.DownAfter, MinP: lc.MinP},
		PlannedExpertsPerToken: lc.PlannedExpertsPerToken, OnEvent: onEvent})
	if err != nil {
		return nil, fmt.Errorf("ladder: %w", err)
	}
	p.ladder = l
	start := time.Now()
	go func() {
		t := time.NewTicker(p.prof.LadderInterval())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if p.running.Load() {
					l.Observe(l.Measure(start))
				}
			}
		}
	}()
	return l, nil
}
