package chief

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// calm is a healthy interval: lag, backlog and experts per token well under
// their thresholds (200ms, 20, 1.8).
func calm() Sample {
	return Sample{LagP95: 50 * time.Millisecond, TargetWindow: 100 * time.Millisecond,
		Backlog: 10, Concurrency: 4, ExpertsPerToken: 1.5, PlannedExpertsPerToken: 1.5}
}

// burst is an interval of a 10× tick burst: lag ten times the target window
// and the backlog far above 5×concurrency.
func burst() Sample {
	s := calm()
	s.LagP95 = time.Second
	s.Backlog = 400
	return s
}

// routing is an interval where only experts per token is too high.
func routing() Sample {
	s := calm()
	s.ExpertsPerToken = 2.2
	return s
}

func breach(s Sample, n int) Sample { s.BreachIntervals = n; return s }

func repeat(n int, f func() Sample) []Sample {
	out := make([]Sample, n)
	for i := range out {
		out[i] = f()
	}
	return out
}

func seq(parts ...[]Sample) []Sample {
	var out []Sample
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func one(s Sample) []Sample { return []Sample{s} }

func newLadder(t *testing.T, cfg Config) *Ladder {
	t.Helper()
	l, err := NewLadder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func run(t *testing.T, cfg Config, samples []Sample) []Decision {
	t.Helper()
	l := newLadder(t, cfg)
	out := make([]Decision, len(samples))
	for i, s := range samples {
		out[i] = l.Observe(s)
	}
	return out
}

func steps(ds []Decision) (step, lag []int) {
	for _, d := range ds {
		step = append(step, d.Step)
		lag = append(lag, d.LagStep)
	}
	return step, lag
}

func TestTimelines(t *testing.T) {
	invalid := func() Sample { s := calm(); s.Concurrency = 0; return s }
	cases := []struct {
		name    string
		cfg     Config
		samples []Sample
		want    []int // Step after each interval
		wantLag []int // LagStep, when it differs from want
	}{
		{
			name:    "10x burst walks up 1..5, then down one step per 3 healthy intervals",
			samples: seq(repeat(6, burst), repeat(16, calm)),
			want:    []int{1, 2, 3, 4, 5, 5, 5, 5, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1, 0, 0},
		},
		{
			name: "hysteresis: single noisy healthy intervals never step down",
			samples: seq(repeat(5, burst), one(calm()), one(burst()), repeat(2, calm), one(burst()),
				one(calm()), one(burst()), repeat(3, calm)),
			want: []int{1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 4},
		},
		{
			name:    "healthy intervals inside a burst only hold the climb",
			samples: seq(one(burst()), one(calm()), one(burst()), one(calm()), one(burst()), one(calm())),
			want:    []int{1, 1, 2, 2, 3, 3},
		},
		{
			name:    "a degraded interval during the descent climbs again at once",
			samples: seq(repeat(4, burst), repeat(3, calm), repeat(2, calm), one(burst()), repeat(3, calm)),
			want:    []int{1, 2, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4, 3},
		},
		{
			name:    "UpAfter 2 climbs every second degraded interval",
			cfg:     Config{UpAfter: 2},
			samples: seq(repeat(11, burst), repeat(3, calm)),
			want:    []int{0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 5, 4},
		},
		{
			name:    "UpAfter 2: a healthy interval restarts the degraded count",
			cfg:     Config{UpAfter: 2},
			samples: seq(one(burst()), one(calm()), one(burst()), one(burst())),
			want:    []int{0, 0, 0, 1},
		},
		{
			name:    "DownAfter 1 steps down at every healthy interval",
			cfg:     Config{DownAfter: 1},
			samples: seq(repeat(3, burst), repeat(4, calm)),
			want:    []int{1, 2, 3, 2, 1, 0, 0},
		},
		{
			name:    "experts per token alone still climbs the cumulative ladder",
			samples: seq(repeat(6, routing), repeat(3, calm)),
			want:    []int{1, 2, 3, 4, 5, 5, 5, 5, 4},
		},
		{
			name: "three breach intervals force step 6 and its release returns to normal",
			samples: []Sample{breach(calm(), 1), breach(calm(), 2), breach(calm(), 3), breach(calm(), 4),
				breach(calm(), 5), breach(calm(), 0), calm()},
			want:    []int{0, 0, 6, 6, 6, 0, 0},
			wantLag: []int{0, 0, 0, 0, 0, 0, 0},
		},
		{
			name: "step 6 overlays the lag path, which keeps moving underneath",
			samples: []Sample{burst(), breach(burst(), 3), breach(burst(), 4), breach(burst(), 5),
				breach(calm(), 6), calm(), calm(), calm()},
			want:    []int{1, 6, 6, 6, 6, 4, 3, 3},
			wantLag: []int{1, 2, 3, 4, 4, 4, 3, 3},
		},
		{
			name:    "breach released while the lag path is at step 5",
			samples: seq(repeat(5, burst), one(breach(burst(), 3)), one(burst())),
			want:    []int{1, 2, 3, 4, 5, 6, 5},
			wantLag: []int{1, 2, 3, 4, 5, 5, 5},
		},
		{
			name:    "invalid samples hold the step and break the healthy count",
			samples: seq(repeat(2, burst), repeat(2, calm), one(invalid()), repeat(3, calm)),
			want:    []int{1, 2, 2, 2, 2, 2, 2, 1},
		},
		{
			name:    "invalid samples keep the degraded count (UpAfter 2)",
			cfg:     Config{UpAfter: 2},
			samples: seq(one(burst()), one(invalid()), one(burst())),
			want:    []int{0, 0, 1},
		},
		{
			name: "an invalid sample holds step 6",
			samples: seq(one(breach(calm(), 3)),
				one(func() Sample { s := breach(calm(), 0); s.TargetWindow = 0; return s }()), one(calm())),
			want:    []int{6, 6, 0},
			wantLag: []int{0, 0, 0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gotStep, gotLag := steps(run(t, tc.cfg, tc.samples))
			if !reflect.DeepEqual(gotStep, tc.want) {
				t.Errorf("steps\n got %v\nwant %v", gotStep, tc.want)
			}
			wantLag := tc.wantLag
			if wantLag == nil {
				wantLag = tc.want
			}
			if !reflect.DeepEqual(gotLag, wantLag) {
				t.Errorf("lag steps\n got %v\nwant %v", gotLag, wantLag)
			}
		})
	}
}

func TestReasons(t *testing.T) {
	samples := seq(repeat(6, burst), repeat(3, calm), one(breach(calm(), 3)), one(calm()),
		one(func() Sample { s := calm(); s.Backlog = -1; return s }()))
	ds := run(t, Config{}, samples)
	const (
		lagHigh = "lag_p95 1s > 2×target_window 100ms = 200ms"
		blHigh  = "backlog 400 > 5×concurrency 4 = 20"
		healthy = "lag_p95 50ms ≤ 2×target_window 100ms = 200ms, backlog 10 ≤ 5×concurrency 4 = 20, " +
			"experts_per_token 1.5 ≤ planned 1.5 + 0.3 = 1.8"
	)
	want := []string{
		"step 0→1 (widen window): " + lagHigh,
		"step 1→2 (no overlap): " + blHigh + "; window widened again to ×2.25",
		"step 2→3 (lower p): still degraded: " + lagHigh + ", " + blHigh,
		"step 3→4 (coarse recipe): still degraded: " + lagHigh + ", " + blHigh,
		"step 4→5 (core features): still degraded: " + lagHigh + ", " + blHigh,
		"step 5 (core features) held at the top: degraded: " + lagHigh + ", " + blHigh,
		"step 5 (core features) held: healthy 1/3 intervals toward step 4: " + healthy,
		"step 5 (core features) held: healthy 2/3 intervals toward step 4: " + healthy,
		"step 5→4 (coarse recipe): healthy for 3 intervals: " + healthy,
		"step 4→6 (force abstain): breach_intervals 3 ≥ 3; lag step 4 (coarse recipe) held: healthy 1/3 intervals toward step 3: " + healthy,
		"step 6→4 (coarse recipe): breach_intervals 0 < 3, back to the lag-driven step; lag step 4 (coarse recipe) held: healthy 2/3 intervals toward step 3: " + healthy,
		"step 4 (coarse recipe) held: invalid sample: chief: Sample.Backlog -1: negative",
	}
	for i, d := range ds {
		if d.Reason != want[i] {
			t.Errorf("interval %d reason\n got %q\nwant %q", i+1, d.Reason, want[i])
		}
	}
	if ds[len(ds)-1].Err == nil {
		t.Error("invalid sample: Decision.Err is nil")
	}

	// The experts-per-token path names step 3's own condition and the
	// extra cuts.
	ds = run(t, Config{}, repeat(4, routing))
	ep := "experts_per_token 2.2 > planned 1.5 + 0.3 = 1.8"
	if got, w := ds[0].Reason, "step 0→1 (widen window): still degraded: "+ep; got != w {
		t.Errorf("reason\n got %q\nwant %q", got, w)
	}
	if got, w := ds[2].Reason, "step 2→3 (lower p): "+ep; got != w {
		t.Errorf("reason\n got %q\nwant %q", got, w)
	}
	if got, w := ds[3].Reason, "step 3→4 (coarse recipe): still degraded: "+ep+"; p lowered again, total -0.1"; got != w {
		t.Errorf("reason\n got %q\nwant %q", got, w)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func sameActions(a, b Actions) bool {
	return near(a.WindowFactor, b.WindowFactor) && a.Overlap0 == b.Overlap0 && near(a.PDelta, b.PDelta) &&
		a.PFloor == b.PFloor && a.Recipe == b.Recipe && a.ForceAbstainHighLatency == b.ForceAbstainHighLatency
}

func TestCumulativeActions(t *testing.T) {
	// Lag, backlog and experts per token all high: every knob tightens.
	all := func() Sample { s := burst(); s.ExpertsPerToken = 2.2; return s }
	samples := seq(repeat(5, all), one(breach(all(), 3)), repeat(15, calm))
	ds := run(t, Config{}, samples)
	a := func(wf float64, o bool, pd float64, r string, abstain bool) Actions {
		return Actions{WindowFactor: wf, Overlap0: o, PDelta: pd, PFloor: 0.3, Recipe: r, ForceAbstainHighLatency: abstain}
	}
	want := []Actions{
		a(1.5, false, 0, RecipeFull, false),       // 1 widen window
		a(2.25, true, 0, RecipeFull, false),       // 2 no overlap (+ widened again)
		a(2.25, true, -0.05, RecipeFull, false),   // 3 lower p (widening capped at 2)
		a(2.25, true, -0.10, RecipeCoarse, false), // 4 coarse recipe (+ p cut again)
		a(2.25, true, -0.15, RecipeCore, false),   // 5 core features
		a(2.25, true, -0.20, RecipeCore, true),    // 6 over 5: lag actions + abstain
		a(2.25, true, -0.20, RecipeCore, false),   // 5 held (healthy 1/3)
		a(2.25, true, -0.20, RecipeCore, false),
		a(2.25, true, -0.20, RecipeCoarse, false), // 4
		a(2.25, true, -0.20, RecipeCoarse, false),
		a(2.25, true, -0.20, RecipeCoarse, false),
		a(2.25, true, -0.20, RecipeFull, false), // 3
		a(2.25, true, -0.20, RecipeFull, false),
		a(2.25, true, -0.20, RecipeFull, false),
		a(2.25, true, 0, RecipeFull, false), // 2: every p cut released
		a(2.25, true, 0, RecipeFull, false),
		a(2.25, true, 0, RecipeFull, false),
		a(2.25, false, 0, RecipeFull, false), // 1
		a(2.25, false, 0, RecipeFull, false),
		a(2.25, false, 0, RecipeFull, false),
		a(1, false, 0, RecipeFull, false), // 0: every widening released
	}
	for i, d := range ds {
		if !sameActions(d.Actions, want[i]) {
			t.Errorf("interval %d (step %d): actions\n got %+v\nwant %+v", i+1, d.Step, d.Actions, want[i])
		}
	}
	l := newLadder(t, Config{})
	if got, w := l.Last().Actions, a(1, false, 0, RecipeFull, false); !sameActions(got, w) {
		t.Errorf("initial actions %+v, want %+v", got, w)
	}
}

func TestPNeverBelowMinP(t *testing.T) {
	cases := []struct {
		cfg      Config
		wantCuts int
	}{
		{Config{}, 14},                         // ceil(0.7/0.05)
		{Config{PStep: 0.3, MinP: 0.5}, 2},     // ceil(0.5/0.3)
		{Config{PStep: 0.1, MinP: 0.2}, 8},     // 0.8/0.1 is 7.999…: still 8
		{Config{PStep: 0.25, MinP: 0.75}, 1},   // exactly one cut
		{Config{PStep: 0.001, MinP: 0.9}, 100}, // many small cuts
	}
	for _, tc := range cases {
		l := newLadder(t, tc.cfg)
		var d Decision
		for range 400 {
			d = l.Observe(routing())
		}
		cfg := tc.cfg.withDefaults()
		if got := l.Counters().PCuts; got != uint64(tc.wantCuts) {
			t.Errorf("%+v: %d cuts, want %d", tc.cfg, got, tc.wantCuts)
		}
		if want := -float64(tc.wantCuts) * cfg.PStep; !near(d.Actions.PDelta, want) {
			t.Errorf("%+v: PDelta %g, want %g", tc.cfg, d.Actions.PDelta, want)
		}
		for i := 0; i <= 100; i++ {
			base := float64(i) / 100
			p := d.Actions.P(base)
			if p > base || p < min(base, cfg.MinP) {
				t.Errorf("%+v: P(%g) = %g: want in [min(base, %g), base]", tc.cfg, base, p, cfg.MinP)
			}
			if base >= cfg.MinP && p < cfg.MinP {
				t.Errorf("%+v: P(%g) = %g below MinP", tc.cfg, base, p)
			}
		}
		if got := d.Actions.P(1); !near(got, cfg.MinP) {
			t.Errorf("%+v: P(1) = %g after every cut, want the floor %g", tc.cfg, got, cfg.MinP)
		}
	}
	// Below the floor already: left as it is. No cut in force: unchanged.
	a := Actions{PDelta: -0.5, PFloor: 0.3}
	if got := a.P(0.25); got != 0.25 {
		t.Errorf("P(0.25) = %g, want 0.25", got)
	}
	if got := a.P(0.9); !near(got, 0.4) {
		t.Errorf("P(0.9) = %g, want 0.4", got)
	}
	if got := (Actions{PFloor: 0.3}).P(0.2); got != 0.2 {
		t.Errorf("P without cuts = %g, want 0.2", got)
	}
}

func TestWindowFactorCapped(t *testing.T) {
	lagOnly := func() Sample { s := calm(); s.LagP95 = time.Second; return s }
	cases := []struct {
		cfg  Config
		want float64
	}{
		{Config{}, 2.25},
		{Config{MaxWiden: 1}, 1.5},
		{Config{MaxWiden: 3}, 3.375},
		{Config{WidenFactor: 2, MaxWiden: 4}, 16},
	}
	for _, tc := range cases {
		l := newLadder(t, tc.cfg)
		for i := range 50 {
			d := l.Observe(lagOnly())
			if d.Actions.WindowFactor > tc.want {
				t.Fatalf("%+v: interval %d factor %g above the cap %g", tc.cfg, i+1, d.Actions.WindowFactor, tc.want)
			}
		}
		if got := l.Last().Actions.WindowFactor; got != tc.want {
			t.Errorf("%+v: factor %g, want %g", tc.cfg, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	nan := math.NaN()
	bad := []struct {
		field string
		cfg   Config
	}{
		{"UpAfter", Config{UpAfter: -1}},
		{"UpAfter", Config{UpAfter: 1001}},
		{"DownAfter", Config{DownAfter: -2}},
		{"PStep", Config{PStep: -0.05}},
		{"PStep", Config{PStep: 1}},
		{"PStep", Config{PStep: nan}},
		{"MinP", Config{MinP: -0.1}},
		{"MinP", Config{MinP: 1}},
		{"MinP", Config{MinP: math.Inf(1)}},
		{"WidenFactor", Config{WidenFactor: 1}},
		{"WidenFactor", Config{WidenFactor: 0.5}},
		{"WidenFactor", Config{WidenFactor: 11}},
		{"MaxWiden", Config{MaxWiden: -1}},
		{"MaxWiden", Config{MaxWiden: 17}},
		{"LagFactor", Config{LagFactor: -2}},
		{"LagFactor", Config{LagFactor: nan}},
		{"BacklogFactor", Config{BacklogFactor: -5}},
		{"ExpertsSlack", Config{ExpertsSlack: -0.3}},
		{"ExpertsSlack", Config{ExpertsSlack: math.Inf(1)}},
		{"AbstainBreaches", Config{AbstainBreaches: -3}},
	}
	for _, tc := range bad {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "Config."+tc.field+" ") {
			t.Errorf("%+v: error %v, want one naming Config.%s", tc.cfg, err, tc.field)
		}
		if l, err := NewLadder(tc.cfg); l != nil || err == nil {
			t.Errorf("%+v: NewLadder accepted it", tc.cfg)
		}
	}
	want := Config{UpAfter: 1, DownAfter: 3, PStep: 0.05, MinP: 0.3, WidenFactor: 1.5, MaxWiden: 2,
		LagFactor: 2, BacklogFactor: 5, ExpertsSlack: 0.3, AbstainBreaches: 3}
	if got := (Config{}).withDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	if err := want.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := (Config{UpAfter: 5, DownAfter: 10, PStep: 0.1, MinP: 0.5, WidenFactor: 2, MaxWiden: 3}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestSampleValidate(t *testing.T) {
	f := func(field string, mut func(*Sample)) {
		t.Helper()
		s := calm()
		mut(&s)
		err := s.Validate()
		if field == "" {
			if err != nil {
				t.Errorf("valid sample: %v", err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), "Sample."+field+" ") {
			t.Errorf("error %v, want one naming Sample.%s", err, field)
		}
	}
	f("", func(*Sample) {})
	f("", func(s *Sample) { s.LagP95, s.Backlog, s.ExpertsPerToken, s.PlannedExpertsPerToken = 0, 0, 0, 0 })
	f("LagP95", func(s *Sample) { s.LagP95 = -1 })
	f("TargetWindow", func(s *Sample) { s.TargetWindow = 0 })
	f("Backlog", func(s *Sample) { s.Backlog = -1 })
	f("Concurrency", func(s *Sample) { s.Concurrency = 0 })
	f("ExpertsPerToken", func(s *Sample) { s.ExpertsPerToken = math.NaN() })
	f("ExpertsPerToken", func(s *Sample) { s.ExpertsPerToken = -1 })
	f("PlannedExpertsPerToken", func(s *Sample) { s.PlannedExpertsPerToken = math.Inf(1) })
	f("BreachIntervals", func(s *Sample) { s.BreachIntervals = -1 })
}

func TestThresholdsAreStrict(t *testing.T) {
	// Exactly at each threshold is healthy; just above is degraded.
	f := func(mut func(*Sample), wantStep int) {
		t.Helper()
		s := calm()
		mut(&s)
		if d := newLadder(t, Config{}).Observe(s); d.Step != wantStep {
			t.Errorf("%+v: step %d, want %d (%s)", s, d.Step, wantStep, d.Reason)
		}
	}
	f(func(s *Sample) { s.LagP95 = 200 * time.Millisecond }, 0)
	f(func(s *Sample) { s.LagP95 = 200*time.Millisecond + 1 }, 1)
	f(func(s *Sample) { s.Backlog = 20 }, 0)
	f(func(s *Sample) { s.Backlog = 21 }, 1)
	f(func(s *Sample) { s.ExpertsPerToken, s.PlannedExpertsPerToken = 1.75, 1.5 }, 0)
	f(func(s *Sample) { s.ExpertsPerToken, s.PlannedExpertsPerToken = 1.85, 1.5 }, 1)
	f(func(s *Sample) { s.BreachIntervals = 2 }, 0)
	f(func(s *Sample) { s.BreachIntervals = 3 }, 6)
}

func TestCountersAndEvents(t *testing.T) {
	var events []Event
	cfg := Config{OnChange: func(e Event) { events = append(events, e) }}
	samples := seq(repeat(6, burst), repeat(16, calm), one(breach(calm(), 3)), one(calm()),
		one(func() Sample { s := calm(); s.Concurrency = -1; return s }()))
	l := newLadder(t, cfg)
	var ds []Decision
	for _, s := range samples {
		ds = append(ds, l.Observe(s))
	}
	c := l.Counters()
	want := Counters{
		Intervals: 25,
		// steps: 1 2 3 4 5 5 | 5 5 4 4 4 3 3 3 2 2 2 1 1 1 0 0 | 6 | 0 | 0 (invalid)
		At:        [7]uint64{4, 4, 4, 4, 4, 4, 1},
		Up:        [7]uint64{0, 1, 1, 1, 1, 1, 1},
		Down:      [7]uint64{2, 1, 1, 1, 1, 0, 0},
		LagUp:     [6]uint64{0, 1, 1, 1, 1, 1},
		LagDown:   [6]uint64{1, 1, 1, 1, 1, 0},
		Widenings: 2,
		PCuts:     1, // the first cut comes with step 3
		Invalid:   1,
	}
	if c != want {
		t.Errorf("counters\n got %+v\nwant %+v", c, want)
	}
	var fromDecisions []Event
	for _, d := range ds {
		if e, ok := d.Event(); ok {
			fromDecisions = append(fromDecisions, e)
		}
	}
	if !reflect.DeepEqual(events, fromDecisions) {
		t.Errorf("OnChange events differ from Decision.Event:\n%+v\n%+v", events, fromDecisions)
	}
	type move struct {
		interval uint64
		from, to int
		dir      string
	}
	wantMoves := []move{{1, 0, 1, "up"}, {2, 1, 2, "up"}, {3, 2, 3, "up"}, {4, 3, 4, "up"}, {5, 4, 5, "up"},
		{9, 5, 4, "down"}, {12, 4, 3, "down"}, {15, 3, 2, "down"}, {18, 2, 1, "down"}, {21, 1, 0, "down"},
		{23, 0, 6, "up"}, {24, 6, 0, "down"}}
	var got []move
	for _, e := range events {
		got = append(got, move{e.Interval, e.From, e.To, e.Direction})
		if e.Name != StepName(e.To) || e.Reason == "" {
			t.Errorf("event %+v: name or reason", e)
		}
	}
	if !reflect.DeepEqual(got, wantMoves) {
		t.Errorf("events\n got %v\nwant %v", got, wantMoves)
	}
	if l.Last().Interval != 25 || l.Last().Err == nil {
		t.Errorf("Last = %+v", l.Last())
	}

	// A lag move hidden under step 6 is an event too, with its direction.
	events = nil
	l = newLadder(t, cfg)
	l.Observe(breach(calm(), 3))
	d := l.Observe(breach(burst(), 4))
	if !d.Changed || d.Step != 6 || d.Prev != 6 || d.LagStep != 1 || len(events) != 2 || events[1].Direction != "up" {
		t.Errorf("hidden lag move: decision %+v, events %+v", d, events)
	}
}

func TestStepNamesMatchEye(t *testing.T) {
	// eye.LadderStepName, which this package may not import.
	want := []string{"normal", "widen window", "no overlap", "lower p", "coarse recipe", "core features", "force abstain"}
	for i, w := range want {
		if got := StepName(i); got != w {
			t.Errorf("StepName(%d) = %q, want %q", i, got, w)
		}
	}
	for _, i := range []int{-1, MaxStep + 1} {
		if got := StepName(i); got != "invalid" {
			t.Errorf("StepName(%d) = %q", i, got)
		}
	}
}

// randomSamples is a seeded sequence that spends time both degraded and
// healthy, with breach streaks and a few invalid samples.
func randomSamples(seed uint64, n int) []Sample {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]Sample, n)
	breaches := 0
	pDegraded := r.Float64()
	for i := range out {
		if r.IntN(50) == 0 {
			pDegraded = r.Float64()
		}
		s := calm()
		s.TargetWindow = time.Duration(50+r.IntN(200)) * time.Millisecond
		s.Concurrency = 1 + r.IntN(8)
		s.PlannedExpertsPerToken = 1 + r.Float64()
		s.ExpertsPerToken = s.PlannedExpertsPerToken
		s.LagP95 = time.Duration(r.Int64N(int64(s.TargetWindow) * 2))
		s.Backlog = r.IntN(5*s.Concurrency + 1)
		if r.Float64() < pDegraded {
			switch r.IntN(4) {
			case 0:
				s.LagP95 = 2*s.TargetWindow + time.Duration(1+r.Int64N(int64(time.Second)))
			case 1:
				s.Backlog = 5*s.Concurrency + 1 + r.IntN(1000)
			case 2:
				s.ExpertsPerToken += 0.31 + r.Float64()
			default:
				s.LagP95 = 10 * s.TargetWindow
				s.Backlog = 100 * s.Concurrency
			}
		}
		if r.IntN(8) == 0 {
			breaches++
		} else if r.IntN(3) == 0 {
			breaches = 0
		}
		s.BreachIntervals = breaches
		if r.IntN(40) == 0 {
			s.Concurrency = 0 // invalid
		}
		out[i] = s
	}
	return out
}

func TestDeterminism(t *testing.T) {
	for seed := range uint64(20) {
		cfg := Config{UpAfter: 1 + int(seed%3), DownAfter: 1 + int(seed%4)}
		samples := randomSamples(seed, 300)
		var ev1, ev2 []Event
		c1, c2 := cfg, cfg
		c1.OnChange = func(e Event) { ev1 = append(ev1, e) }
		c2.OnChange = func(e Event) { ev2 = append(ev2, e) }
		l1, l2 := newLadder(t, c1), newLadder(t, c2)
		for i, s := range samples {
			d1, d2 := l1.Observe(s), l2.Observe(s)
			if !reflect.DeepEqual(d1, d2) {
				t.Fatalf("seed %d interval %d: decisions differ\n%+v\n%+v", seed, i+1, d1, d2)
			}
		}
		if !reflect.DeepEqual(ev1, ev2) || l1.Counters() != l2.Counters() {
			t.Fatalf("seed %d: events or counters differ", seed)
		}
		if len(ev1) == 0 {
			t.Fatalf("seed %d: no event in 300 random intervals", seed)
		}
	}
}

// atLeast reports whether a is at least as strong as b in every knob but the
// abstain overlay.
func atLeast(a, b Actions) bool {
	recipe := map[string]int{RecipeFull: 0, RecipeCoarse: 1, RecipeCore: 2}
	return a.WindowFactor >= b.WindowFactor && (a.Overlap0 || !b.Overlap0) && a.PDelta <= b.PDelta &&
		recipe[a.Recipe] >= recipe[b.Recipe]
}

func TestPropertyRandomSequences(t *testing.T) {
	healthy := func(cfg Config, s Sample) bool {
		return float64(s.LagP95) <= cfg.LagFactor*float64(s.TargetWindow) &&
			float64(s.Backlog) <= cfg.BacklogFactor*float64(s.Concurrency) &&
			s.ExpertsPerToken <= s.PlannedExpertsPerToken+cfg.ExpertsSlack
	}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		cfg := Config{UpAfter: 1 + r.IntN(3), DownAfter: 1 + r.IntN(4), MaxWiden: 1 + r.IntN(3)}
		full := cfg.withDefaults()
		l := newLadder(t, cfg)
		prev := l.Last()
		healthyRun, degradedRun := 0, 0 // since the last lag move
		for i, s := range randomSamples(seed, 500) {
			d := l.Observe(s)
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("seed %d cfg %+v interval %d: %s\nsample %+v\ndecision %+v", seed, cfg, i+1,
					fmt.Sprintf(format, args...), s, d)
			}
			valid := s.Validate() == nil
			switch {
			case !valid:
				healthyRun = 0
			case healthy(full, s):
				healthyRun, degradedRun = healthyRun+1, 0
			default:
				healthyRun, degradedRun = 0, degradedRun+1
			}

			// At most one step per interval, except entering or leaving 6.
			if d.Step != 6 && d.Prev != 6 && abs(d.Step-d.Prev) > 1 {
				fail("step jumped %d→%d", d.Prev, d.Step)
			}
			if abs(d.LagStep-d.PrevLag) > 1 || d.LagStep < 0 || d.LagStep > MaxLagStep {
				fail("lag step jumped %d→%d", d.PrevLag, d.LagStep)
			}
			if d.Prev != prev.Step || d.PrevLag != prev.LagStep || d.Interval != uint64(i+1) {
				fail("Prev/PrevLag/Interval do not chain")
			}
			// Step 6 exactly while breaches hold (valid samples).
			if valid && (d.Step == 6) != (s.BreachIntervals >= 3) {
				fail("step 6 = %v with %d breach intervals", d.Step == 6, s.BreachIntervals)
			}
			if d.Step != 6 && d.Step != d.LagStep {
				fail("step %d ≠ lag step %d outside step 6", d.Step, d.LagStep)
			}
			if !valid && (d.Step != d.Prev || d.LagStep != d.PrevLag || !reflect.DeepEqual(d.Actions, prev.Actions)) {
				fail("invalid sample moved the ladder")
			}
			// Up only after UpAfter degraded intervals; down only after
			// DownAfter healthy ones.
			if d.LagStep > d.PrevLag {
				if degradedRun < full.UpAfter || healthy(full, s) {
					fail("climbed after %d degraded intervals", degradedRun)
				}
			}
			if d.LagStep < d.PrevLag && healthyRun < full.DownAfter {
				fail("stepped down after %d healthy intervals", healthyRun)
			}
			if d.LagStep != d.PrevLag {
				healthyRun, degradedRun = 0, 0
			}
			// Actions are a function of the lag step's tier, cumulative, and
			// monotone in it.
			a := d.Actions
			nw := math.Round(math.Log(a.WindowFactor) / math.Log(full.WidenFactor))
			if (a.WindowFactor > 1) != (d.LagStep >= 1) || nw > float64(full.MaxWiden) {
				fail("window factor %g at lag step %d", a.WindowFactor, d.LagStep)
			}
			if a.Overlap0 != (d.LagStep >= 2) || (a.PDelta < 0) != (d.LagStep >= 3) || a.PDelta > 0 {
				fail("overlap/p at lag step %d", d.LagStep)
			}
			wantRecipe := []string{RecipeFull, RecipeFull, RecipeFull, RecipeFull, RecipeCoarse, RecipeCore}[d.LagStep]
			if a.Recipe != wantRecipe || a.ForceAbstainHighLatency != (d.Step == 6) || a.PFloor != full.MinP {
				fail("recipe/abstain/floor at step %d lag %d", d.Step, d.LagStep)
			}
			if p := a.P(1); p < full.MinP-1e-12 {
				fail("p %g below MinP", p)
			}
			switch {
			case d.LagStep >= d.PrevLag && !atLeast(a, prev.Actions):
				fail("actions weakened while the lag step rose or held: %+v → %+v", prev.Actions, a)
			case d.LagStep < d.PrevLag && !atLeast(prev.Actions, a):
				fail("actions strengthened while the lag step fell: %+v → %+v", prev.Actions, a)
			}
			if (d.Step != d.Prev || d.LagStep != d.PrevLag) != d.Changed {
				fail("Changed = %v", d.Changed)
			}
			prev = d
		}
	}
}

func TestConcurrentReaders(t *testing.T) {
	l := newLadder(t, Config{})
	samples := randomSamples(7, 2000)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			d, c := l.Last(), l.Counters()
			if d.Step < 0 || d.Step > MaxStep || c.Intervals < d.Interval {
				t.Errorf("inconsistent read: %+v %+v", d, c)
				return
			}
		}
	}()
	for _, s := range samples {
		l.Observe(s)
	}
	close(done)
	wg.Wait()
	if c := l.Counters(); c.Intervals != 2000 {
		t.Errorf("intervals %d", c.Intervals)
	}
	var total uint64
	for _, n := range l.Counters().At {
		total += n
	}
	if total != 2000 {
		t.Errorf("intervals at steps sum to %d, want 2000", total)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
