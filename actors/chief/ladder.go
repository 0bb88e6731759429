package chief

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
)

// Steps of the backpressure ladder (seed 004 §9). The numbers and names match
// eye.Ladder and eye.LadderStepName.
const (
	StepNormal       = 0 // no action
	StepWidenWindow  = 1 // market windows widened (+50% per widening)
	StepNoOverlap    = 2 // window overlap set to 0%
	StepLowerP       = 3 // router p_threshold lowered
	StepCoarseRecipe = 4 // coarse feature recipe
	StepCoreFeatures = 5 // core price/volume features only
	StepForceAbstain = 6 // abstain forced for high-latency experts (risk breaches)

	// MaxLagStep is the top of the lag-driven part of the ladder.
	MaxLagStep = StepCoreFeatures
	// MaxStep is the last step.
	MaxStep = StepForceAbstain
)

// Feature recipes named by Actions.Recipe.
const (
	RecipeFull   = "full"   // every feature (steps 0-3)
	RecipeCoarse = "coarse" // the reduced metrics set (step 4)
	RecipeCore   = "core"   // core price/volume only, enrichment dropped (step 5)
)

// StepName names a step: normal, widen window, no overlap, lower p, coarse
// recipe, core features, force abstain; "invalid" outside 0..MaxStep.
func StepName(step int) string {
	switch step {
	case StepNormal:
		return "normal"
	case StepWidenWindow:
		return "widen window"
	case StepNoOverlap:
		return "no overlap"
	case StepLowerP:
		return "lower p"
	case StepCoarseRecipe:
		return "coarse recipe"
	case StepCoreFeatures:
		return "core features"
	case StepForceAbstain:
		return "force abstain"
	}
	return "invalid"
}

// Sample is what the engine measured over one cadence interval.
type Sample struct {
	// LagP95 is the 95th percentile, over the interval, of how far the
	// newest processed event time is behind the wall clock (market path).
	LagP95 time.Duration
	// TargetWindow is the market window length the profile asks for (not
	// the widened one). Must be positive.
	TargetWindow time.Duration
	// Backlog is the balancer backlog at the end of the interval: items
	// waiting in the partition and decision rings.
	Backlog int
	// Concurrency is how many workers drain that backlog (partition loops).
	// Must be positive.
	Concurrency int
	// ExpertsPerToken is the mean number of experts activated per routed
	// token over the interval (all layers); PlannedExpertsPerToken is what
	// the router configuration plans for. An interval that routed nothing
	// should report ExpertsPerToken = PlannedExpertsPerToken.
	ExpertsPerToken, PlannedExpertsPerToken float64
	// BreachIntervals is how many consecutive intervals, this one included,
	// had a risk breach (0 when this one had none).
	BreachIntervals int
}

// Validate names the first field that cannot be used.
func (s Sample) Validate() error {
	bad := func(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) || f < 0 }
	switch {
	case s.LagP95 < 0:
		return fmt.Errorf("chief: Sample.LagP95 %v: negative", s.LagP95)
	case s.TargetWindow <= 0:
		return fmt.Errorf("chief: Sample.TargetWindow %v: must be positive", s.TargetWindow)
	case s.Backlog < 0:
		return fmt.Errorf("chief: Sample.Backlog %d: negative", s.Backlog)
	case s.Concurrency <= 0:
		return fmt.Errorf("chief: Sample.Concurrency %d: must be positive", s.Concurrency)
	case bad(s.ExpertsPerToken):
		return fmt.Errorf("chief: Sample.ExpertsPerToken %g: must be a finite number ≥ 0", s.ExpertsPerToken)
	case bad(s.PlannedExpertsPerToken):
		return fmt.Errorf("chief: Sample.PlannedExpertsPerToken %g: must be a finite number ≥ 0", s.PlannedExpertsPerToken)
	case s.BreachIntervals < 0:
		return fmt.Errorf("chief: Sample.BreachIntervals %d: negative", s.BreachIntervals)
	}
	return nil
}

// Actions is the cumulative set of actions in force: each lag-driven step
// keeps the actions of the steps below it, and step 6 adds
// ForceAbstainHighLatency to the actions of the lag-driven step.
type Actions struct {
	// WindowFactor multiplies the length of market windows (never EDGAR
	// windows): 1 at step 0, WidenFactor^n with 1 ≤ n ≤ MaxWiden from step 1
	// (1.5, 2.25 by default).
	WindowFactor float64 `json:"window_factor"`
	// Overlap0 sets the overlap of windows to 0% (hop = window length), from
	// step 2.
	Overlap0 bool `json:"overlap0"`
	// PDelta is the total change of every router layer's p_threshold in
	// force, from step 3: -PStep × cuts, never positive. Apply it with P.
	PDelta float64 `json:"p_delta"`
	// PFloor is Config.MinP: P never lowers a threshold below it.
	PFloor float64 `json:"p_floor"`
	// Recipe is the feature recipe: RecipeFull, RecipeCoarse (step 4) or
	// RecipeCore (step 5).
	Recipe string `json:"recipe"`
	// ForceAbstainHighLatency replaces the decisions of high-latency experts
	// by abstain (step 6).
	ForceAbstainHighLatency bool `json:"force_abstain_high_latency"`
}

// P is the p_threshold to use for a layer configured with base: base +
// PDelta, but never below PFloor, and never above base (a base already under
// the floor is left as it is).
func (a Actions) P(base float64) float64 {
	if a.PDelta >= 0 {
		return base
	}
	return max(base+a.PDelta, min(base, a.PFloor))
}

// Decision is the outcome of one interval.
type Decision struct {
	// Interval numbers the Observe calls: 1, 2, 3, ...
	Interval uint64 `json:"interval"`
	// Step is the step in force after this interval (6 while breaches force
	// abstain, else LagStep); Prev the one before it.
	Step int `json:"step"`
	Prev int `json:"prev"`
	// LagStep is the lag-driven step (0..5) after this interval, PrevLag the
	// one before. It equals Step unless step 6 is in force.
	LagStep int `json:"lag_step"`
	PrevLag int `json:"prev_lag"`
	// Changed is Step != Prev || LagStep != PrevLag: this interval emitted
	// an Event.
	Changed bool `json:"changed"`
	// Name is StepName(Step).
	Name string `json:"name"`
	// Reason says why the ladder moved or held, naming the measured values
	// and the thresholds.
	Reason string `json:"reason"`
	// Actions are the actions in force after this interval.
	Actions Actions `json:"actions"`
	// Err is set when the sample failed Sample.Validate; the ladder then
	// held its step and actions (see the package documentation).
	Err error `json:"-"`
}

// Event is one change of the ladder, for metrics and the risk/ladder topic.
type Event struct {
	Interval uint64 `json:"interval"`
	From     int    `json:"from"`
	To       int    `json:"to"`
	Name     string `json:"name"` // StepName(To)
	LagFrom  int    `json:"lag_from"`
	LagTo    int    `json:"lag_to"`
	// Direction is "up" or "down": the direction of Step, or of LagStep
	// when Step stayed at 6.
	Direction string  `json:"direction"`
	Reason    string  `json:"reason"`
	Actions   Actions `json:"actions"`
}

// Event returns the decision's event, and false when it changed nothing.
func (d Decision) Event() (Event, bool) {
	if !d.Changed {
		return Event{}, false
	}
	dir := "down"
	if d.Step > d.Prev || (d.Step == d.Prev && d.LagStep > d.PrevLag) {
		dir = "up"
	}
	return Event{Interval: d.Interval, From: d.Prev, To: d.Step, Name: d.Name,
		LagFrom: d.PrevLag, LagTo: d.LagStep, Direction: dir, Reason: d.Reason, Actions: d.Actions}, true
}

// Counters are the ladder's running totals, for thunderline_ladder_*
// metrics. Arrays are indexed by step.
type Counters struct {
	// Intervals is the number of Observe calls.
	Intervals uint64 `json:"intervals"`
	// At counts intervals by the step in force at their end.
	At [MaxStep + 1]uint64 `json:"at"`
	// Up and Down count transitions of Step by the step entered: Up[k] from
	// a lower step, Down[k] from a higher one.
	Up   [MaxStep + 1]uint64 `json:"up"`
	Down [MaxStep + 1]uint64 `json:"down"`
	// LagUp and LagDown count the same for LagStep, including moves made
	// while step 6 hid them.
	LagUp   [MaxLagStep + 1]uint64 `json:"lag_up"`
	LagDown [MaxLagStep + 1]uint64 `json:"lag_down"`
	// Widenings and PCuts count every widening of the window and every cut
	// of p, at entry to steps 1 and 3 and while those steps hold.
	Widenings uint64 `json:"widenings"`
	PCuts     uint64 `json:"p_cuts"`
	// Invalid counts samples that failed Sample.Validate.
	Invalid uint64 `json:"invalid"`
}

// Ladder is the backpressure ladder. Observe is meant for one goroutine (the
// cadence); Last and Counters may be called from any goroutine.
type Ladder struct {
	cfg     Config // with defaults
	maxCuts int

	mu         sync.Mutex
	interval   uint64
	lag        int  // lag-driven step, 0..MaxLagStep
	breach     bool // step 6 in force
	upStreak   int  // consecutive degraded intervals at this lag step
	downStreak int  // consecutive healthy intervals at this lag step
	widenings  int  // 0..MaxWiden, > 0 iff lag ≥ 1
	cuts       int  // 0..maxCuts, > 0 iff lag ≥ 3
	last       Decision
	counters   Counters
}

// NewLadder returns a ladder at step 0 (normal).
func NewLadder(cfg Config) (*Ladder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Ladder{cfg: cfg.withDefaults()}
	l.maxCuts = l.cfg.maxPCuts()
	l.last = Decision{Name: StepName(StepNormal), Reason: "step 0 (normal): no interval observed yet", Actions: l.actions()}
	return l, nil
}

// Last returns the latest decision (before any Observe: step 0, normal).
func (l *Ladder) Last() Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Counters returns a copy of the running totals.
func (l *Ladder) Counters() Counters {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counters
}

// conditions are the three measured conditions of one sample and their
// thresholds.
type conditions struct {
	s                       Sample
	lag, backlog, experts   bool
	lagLimit                time.Duration
	backlogLimit, epLimit   float64
	lagF, backlogF, epSlack float64
}

func (l *Ladder) evaluate(s Sample) conditions {
	c := conditions{s: s, lagF: l.cfg.LagFactor, backlogF: l.cfg.BacklogFactor, epSlack: l.cfg.ExpertsSlack}
	lagLimit := l.cfg.LagFactor * float64(s.TargetWindow)
	c.lag = float64(s.LagP95) > lagLimit
	c.lagLimit = time.Duration(lagLimit)
	c.backlogLimit = l.cfg.BacklogFactor * float64(s.Concurrency)
	c.backlog = float64(s.Backlog) > c.backlogLimit
	c.epLimit = s.PlannedExpertsPerToken + l.cfg.ExpertsSlack
	c.experts = s.ExpertsPerToken > c.epLimit
	return c
}

func (c conditions) degraded() bool { return c.lag || c.backlog || c.experts }

func (c conditions) lagText() string {
	op := "≤"
	if c.lag {
		op = ">"
	}
	return fmt.Sprintf("lag_p95 %v %s %g×target_window %v = %v", c.s.LagP95, op, c.lagF, c.s.TargetWindow, c.lagLimit)
}

func (c conditions) backlogText() string {
	op := "≤"
	if c.backlog {
		op = ">"
	}
	return fmt.Sprintf("backlog %d %s %g×concurrency %d = %g", c.s.Backlog, op, c.backlogF, c.s.Concurrency, c.backlogLimit)
}

func (c conditions) expertsText() string {
	op := "≤"
	if c.experts {
		op = ">"
	}
	return fmt.Sprintf("experts_per_token %g %s planned %g + %g = %g", c.s.ExpertsPerToken, op, c.s.PlannedExpertsPerToken, c.epSlack, c.epLimit)
}

// text lists the conditions that hold (onlyHeld), or all three with their
// comparisons.
func (c conditions) text(onlyHeld bool) string {
	var parts []string
	if c.lag || !onlyHeld {
		parts = append(parts, c.lagText())
	}
	if c.backlog || !onlyHeld {
		parts = append(parts, c.backlogText())
	}
	if c.experts || !onlyHeld {
		parts = append(parts, c.expertsText())
	}
	return strings.Join(parts, ", ")
}

// own is the text of step's own condition when it holds (steps 1-3).
func (c conditions) own(step int) (string, bool) {
	switch {
	case step == StepWidenWindow && c.lag:
		return c.lagText(), true
	case step == StepNoOverlap && c.backlog:
		return c.backlogText(), true
	case step == StepLowerP && c.experts:
		return c.expertsText(), true
	}
	return "", false
}

// Observe feeds one interval's sample and returns the decision for the next
// interval. See the package documentation for the rules.
func (l *Ladder) Observe(s Sample) Decision {
	l.mu.Lock()
	d := l.observe(s)
	l.last = d
	ev, changed := d.Event()
	onChange := l.cfg.OnChange
	l.mu.Unlock()
	if changed && onChange != nil {
		onChange(ev)
	}
	return d
}

func (l *Ladder) observe(s Sample) Decision {
	l.interval++
	l.counters.Intervals++
	prevLag, prevBreach := l.lag, l.breach
	d := Decision{Interval: l.interval, Prev: l.step(), PrevLag: prevLag}

	var lagPart string
	if err := s.Validate(); err != nil {
		// An unmeasured interval is not healthy: it breaks the healthy
		// streak, and leaves the degraded streak and every action as it is.
		l.counters.Invalid++
		l.downStreak = 0
		d.Err = err
		lagPart = fmt.Sprintf("invalid sample: %v", err)
	} else {
		c := l.evaluate(s)
		l.breach = s.BreachIntervals >= l.cfg.AbstainBreaches
		if c.degraded() {
			lagPart = l.climb(c)
		} else {
			lagPart = l.descend(c)
		}
	}

	d.Step, d.LagStep = l.step(), l.lag
	d.Changed = d.Step != d.Prev || d.LagStep != d.PrevLag
	d.Name = StepName(d.Step)
	d.Actions = l.actions()
	d.Reason = l.reason(d, s, prevBreach, lagPart)

	l.counters.At[d.Step]++
	switch {
	case d.Step > d.Prev:
		l.counters.Up[d.Step]++
	case d.Step < d.Prev:
		l.counters.Down[d.Step]++
	}
	switch {
	case d.LagStep > d.PrevLag:
		l.counters.LagUp[d.LagStep]++
	case d.LagStep < d.PrevLag:
		l.counters.LagDown[d.LagStep]++
	}
	return d
}

// climb handles a degraded interval: the actions in force tighten, then the
// lag-driven step climbs one step once UpAfter degraded intervals have been
// seen at this step. It returns the reason of the lag path.
func (l *Ladder) climb(c conditions) string {
	l.downStreak = 0
	if l.upStreak < l.cfg.UpAfter {
		l.upStreak++
	}
	var notes []string
	// Tighten what is already in force (rules 1 and 3 apply every interval
	// their condition holds), before any step of this interval.
	if l.lag >= StepWidenWindow && c.lag && l.widenings < l.cfg.MaxWiden {
		l.widenings++
		l.counters.Widenings++
		notes = append(notes, fmt.Sprintf("window widened again to ×%g", l.windowFactor()))
	}
	if l.lag >= StepLowerP && c.experts && l.cuts < l.maxCuts {
		l.cuts++
		l.counters.PCuts++
		notes = append(notes, fmt.Sprintf("p lowered again, total %.4g", l.pDelta()))
	}

	var main string
	switch {
	case l.upStreak >= l.cfg.UpAfter && l.lag < MaxLagStep:
		from := l.lag
		l.lag++
		l.upStreak = 0
		switch l.lag {
		case StepWidenWindow:
			l.widenings = 1
			l.counters.Widenings++
		case StepLowerP:
			l.cuts = 1
			l.counters.PCuts++
		}
		cause, ok := c.own(l.lag)
		if !ok {
			cause = "still degraded: " + c.text(true)
		}
		main = fmt.Sprintf("%d→%d (%s): %s", from, l.lag, StepName(l.lag), cause)
	case l.lag == MaxLagStep:
		main = fmt.Sprintf("%d (%s) held at the top: degraded: %s", l.lag, StepName(l.lag), c.text(true))
	default:
		main = fmt.Sprintf("%d (%s) held: degraded %d/%d intervals toward step %d: %s",
			l.lag, StepName(l.lag), l.upStreak, l.cfg.UpAfter, l.lag+1, c.text(true))
	}
	if len(notes) > 0 {
		main += "; " + strings.Join(notes, "; ")
	}
	return main
}

// descend handles a healthy interval: after DownAfter consecutive healthy
// intervals at a step, the lag-driven step goes down one step, releasing that
// step's action, and the count starts again.
func (l *Ladder) descend(c conditions) string {
	l.upStreak = 0
	if l.lag == StepNormal {
		return fmt.Sprintf("0 (normal): healthy: %s", c.text(false))
	}
	l.downStreak++
	if l.downStreak < l.cfg.DownAfter {
		return fmt.Sprintf("%d (%s) held: healthy %d/%d intervals toward step %d: %s",
			l.lag, StepName(l.lag), l.downStreak, l.cfg.DownAfter, l.lag-1, c.text(false))
	}
	from := l.lag
	switch from {
	case StepWidenWindow:
		l.widenings = 0
	case StepLowerP:
		l.cuts = 0
	}
	l.lag--
	l.downStreak = 0
	return fmt.Sprintf("%d→%d (%s): healthy for %d intervals: %s",
		from, l.lag, StepName(l.lag), l.cfg.DownAfter, c.text(false))
}

// reason puts the breach overlay and the lag path's reason together.
func (l *Ladder) reason(d Decision, s Sample, prevBreach bool, lagPart string) string {
	switch {
	case d.Err != nil:
		return fmt.Sprintf("step %d (%s) held: %s", d.Step, d.Name, lagPart)
	case l.breach && !prevBreach:
		return fmt.Sprintf("step %d→%d (%s): breach_intervals %d ≥ %d; lag step %s",
			d.Prev, d.Step, d.Name, s.BreachIntervals, l.cfg.AbstainBreaches, lagPart)
	case l.breach:
		return fmt.Sprintf("step %d (%s) held: breach_intervals %d ≥ %d; lag step %s",
			d.Step, d.Name, s.BreachIntervals, l.cfg.AbstainBreaches, lagPart)
	case prevBreach:
		return fmt.Sprintf("step %d→%d (%s): breach_intervals %d < %d, back to the lag-driven step; lag step %s",
			d.Prev, d.Step, d.Name, s.BreachIntervals, l.cfg.AbstainBreaches, lagPart)
	}
	return "step " + lagPart
}

func (l *Ladder) step() int {
	if l.breach {
		return StepForceAbstain
	}
	return l.lag
}

func (l *Ladder) windowFactor() float64 {
	f := 1.0
	for range l.widenings {
		f *= l.cfg.WidenFactor
	}
	return f
}

func (l *Ladder) pDelta() float64 {
	if l.cuts == 0 {
		return 0
	}
	return -float64(l.cuts) * l.cfg.PStep
}

func (l *Ladder) actions() Actions {
	a := Actions{
		WindowFactor:            l.windowFactor(),
		Overlap0:                l.lag >= StepNoOverlap,
		PDelta:                  l.pDelta(),
		PFloor:                  l.cfg.MinP,
		Recipe:                  RecipeFull,
		ForceAbstainHighLatency: l.breach,
	}
	switch {
	case l.lag >= StepCoreFeatures:
		a.Recipe = RecipeCore
	case l.lag >= StepCoarseRecipe:
		a.Recipe = RecipeCoarse
	}
	return a
}
