package chief

import (
	"cmp"
	"fmt"
	"math"
)

// Defaults of Config (seed 004 §9).
const (
	DefaultUpAfter         = 1
	DefaultDownAfter       = 3
	DefaultPStep           = 0.05
	DefaultMinP            = 0.3
	DefaultWidenFactor     = 1.5
	DefaultMaxWiden        = 2
	DefaultLagFactor       = 2.0
	DefaultBacklogFactor   = 5.0
	DefaultExpertsSlack    = 0.3
	DefaultAbstainBreaches = 3
)

// Config configures a Ladder. The zero value of every field is its default,
// so Config{} is the seed's ladder; a negative value is an error.
type Config struct {
	// UpAfter is how many consecutive degraded intervals the ladder waits at
	// a step before it climbs to the next one [1: climb at the first
	// degraded interval].
	UpAfter int
	// DownAfter is how many consecutive healthy intervals the ladder waits
	// at a step before it steps down one step [3]. This is the hysteresis:
	// the ladder climbs fast and comes down slowly, and one noisy healthy
	// interval inside a degraded stretch never moves it.
	DownAfter int
	// PStep is how much step 3 lowers the router's p_threshold per interval
	// in which experts per token is too high [0.05].
	PStep float64
	// MinP is the floor of the lowered p_threshold [0.3]; see Actions.P.
	// In (0, 1).
	MinP float64
	// WidenFactor multiplies the market window length at each widening
	// [1.5, the seed's "+50%"]. Greater than 1.
	WidenFactor float64
	// MaxWiden caps the number of widenings in force [2: factor at most
	// 1.5² = 2.25].
	MaxWiden int
	// LagFactor: condition 1 holds when lag_p95 > LagFactor × target window
	// [2].
	LagFactor float64
	// BacklogFactor: condition 2 holds when backlog > BacklogFactor ×
	// concurrency [5].
	BacklogFactor float64
	// ExpertsSlack: condition 3 holds when experts per token > planned +
	// ExpertsSlack [0.3].
	ExpertsSlack float64
	// AbstainBreaches: step 6 is in force while a sample's BreachIntervals
	// is at least AbstainBreaches [3].
	AbstainBreaches int
	// OnChange, when set, is called once for every Event (a change of the
	// step or of the lag-driven step), after Observe has released the
	// ladder's lock, in the order of the intervals when one goroutine calls
	// Observe. It must not call Observe.
	OnChange func(Event) `json:"-" yaml:"-"`
}

func (c Config) withDefaults() Config {
	c.UpAfter = cmp.Or(c.UpAfter, DefaultUpAfter)
	c.DownAfter = cmp.Or(c.DownAfter, DefaultDownAfter)
	c.PStep = cmp.Or(c.PStep, DefaultPStep)
	c.MinP = cmp.Or(c.MinP, DefaultMinP)
	c.WidenFactor = cmp.Or(c.WidenFactor, DefaultWidenFactor)
	c.MaxWiden = cmp.Or(c.MaxWiden, DefaultMaxWiden)
	c.LagFactor = cmp.Or(c.LagFactor, DefaultLagFactor)
	c.BacklogFactor = cmp.Or(c.BacklogFactor, DefaultBacklogFactor)
	c.ExpertsSlack = cmp.Or(c.ExpertsSlack, DefaultExpertsSlack)
	c.AbstainBreaches = cmp.Or(c.AbstainBreaches, DefaultAbstainBreaches)
	return c
}

// Validate names the first field that is out of range.
func (c Config) Validate() error {
	d := c.withDefaults()
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	switch {
	case c.UpAfter < 0 || c.UpAfter > 1000:
		return fmt.Errorf("chief: Config.UpAfter %d: must be 0 (default %d) or 1..1000", c.UpAfter, DefaultUpAfter)
	case c.DownAfter < 0 || c.DownAfter > 1000:
		return fmt.Errorf("chief: Config.DownAfter %d: must be 0 (default %d) or 1..1000", c.DownAfter, DefaultDownAfter)
	case !finite(c.PStep) || d.PStep <= 0 || d.PStep >= 1:
		return fmt.Errorf("chief: Config.PStep %g: must be 0 (default %g) or in (0, 1)", c.PStep, DefaultPStep)
	case !finite(c.MinP) || d.MinP <= 0 || d.MinP >= 1:
		return fmt.Errorf("chief: Config.MinP %g: must be 0 (default %g) or in (0, 1)", c.MinP, DefaultMinP)
	case !finite(c.WidenFactor) || d.WidenFactor <= 1 || d.WidenFactor > 10:
		return fmt.Errorf("chief: Config.WidenFactor %g: must be 0 (default %g) or in (1, 10]", c.WidenFactor, DefaultWidenFactor)
	case c.MaxWiden < 0 || c.MaxWiden > 16:
		return fmt.Errorf("chief: Config.MaxWiden %d: must be 0 (default %d) or 1..16", c.MaxWiden, DefaultMaxWiden)
	case !finite(c.LagFactor) || d.LagFactor <= 0:
		return fmt.Errorf("chief: Config.LagFactor %g: must be 0 (default %g) or positive", c.LagFactor, DefaultLagFactor)
	case !finite(c.BacklogFactor) || d.BacklogFactor <= 0:
		return fmt.Errorf("chief: Config.BacklogFactor %g: must be 0 (default %g) or positive", c.BacklogFactor, DefaultBacklogFactor)
	case !finite(c.ExpertsSlack) || d.ExpertsSlack < 0:
		return fmt.Errorf("chief: Config.ExpertsSlack %g: must be 0 (default %g) or positive", c.ExpertsSlack, DefaultExpertsSlack)
	case c.AbstainBreaches < 0:
		return fmt.Errorf("chief: Config.AbstainBreaches %d: must be 0 (default %d) or positive", c.AbstainBreaches, DefaultAbstainBreaches)
	}
	return nil
}

// maxPCuts is how many PStep cuts can matter at all: p_threshold is at most
// 1, so more than ceil((1-MinP)/PStep) cuts would only push it further below
// a floor it is already held at.
func (c Config) maxPCuts() int {
	x := (1 - c.MinP) / c.PStep
	if n := math.Round(x); math.Abs(x-n) < 1e-9 {
		return int(n) // 0.7/0.05 is 13.999…: 14 cuts, not 15
	}
	return int(math.Ceil(x))
}
