package eye

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"thunderline/hotpath/decide/spec"
)

// Backend is what the admin server shows and acts on. The engine implements
// it; every method may be called from any goroutine, concurrently, and must
// not block for long (the server calls them per request). Snapshots are
// copies: the server never mutates what it is given, and the backend must
// not mutate what it returned.
type Backend interface {
	// Live reports whether the process is alive (/healthz): nil unless the
	// engine is wedged beyond recovery.
	Live() error
	// Ready reports whether the engine is running its pipeline (/readyz): an
	// error saying why not while it starts, drains or has stopped.
	Ready() error

	// Actors lists the supervised actor tree, one entry per actor, parents
	// before children (paths like "engine/flow/0").
	Actors() []Actor

	// Router is the router config in use and its version.
	Router() RouterSnapshot
	// ReloadRouter hot-swaps cfg, which the server has already decoded
	// strictly and validated with spec.ParseRouter. The backend checks what
	// only it can (the version must rise, weight files load, layer shapes)
	// and returns the new version, or a *ConfigError (or *spec.FieldError)
	// naming the field; the
	// running version must stay in use when it refuses.
	ReloadRouter(ctx context.Context, cfg *spec.Router) (version uint64, err error)

	// Experts lists the experts of the router in use, per layer.
	Experts() []LayerExperts
	// ExpertAction restarts a failed expert, forces it to abstain, lifts a
	// forced abstention, or retires it (a permanent forced abstention that
	// survives router reloads). It returns the expert's new state, ErrNotFound
	// for an unknown layer or name, or ErrConflict when the action does not
	// apply (unforcing a retired expert).
	ExpertAction(ctx context.Context, layer int, name string, op ExpertOp) (ExpertStats, error)
	// SwapExpert hot-swaps one expert's model (a blue/green swap): the
	// backend builds a router version in which expert name of layer runs
	// spec, swaps it in, and returns the new version; an invalid spec is a
	// *ConfigError naming the field, ErrNotFound an unknown expert.
	SwapExpert(ctx context.Context, layer int, name string, spec spec.ExpertSpec) (version uint64, err error)

	// Risk is the kill-switch state (seed 004 §9 deny map).
	Risk() RiskState
	// SetDeny adds (deny=true) or removes the (tenant, symbol) deny entry;
	// removing an absent entry is ErrNotFound.
	SetDeny(ctx context.Context, e DenyEntry, deny bool) error
	// HaltAll turns the halt-everything switch on or off.
	HaltAll(ctx context.Context, on bool) error

	// Summary is the live progress snapshot the dashboard opens with.
	Summary() Summary
	// Metrics serves the Prometheus exposition (/metrics), for example
	// promhttp.HandlerFor(registry, promhttp.HandlerOpts{}).
	Metrics() http.Handler
	// Stream serves the dashboard's server-sent events (/stream): "summary"
	// events carrying a Summary and "decision" events carrying a Decision,
	// as JSON. A *Hub does exactly this. The handler must return when the
	// request's context is done.
	Stream() http.Handler
}

// Errors a Backend returns so the server can answer with the right status.
var (
	ErrNotFound    = errors.New("not found")         // 404 not_found
	ErrConflict    = errors.New("conflict")          // 409 conflict
	ErrUnavailable = errors.New("unavailable")       // 503 unavailable
	ErrBadRequest  = errors.New("invalid parameter") // 400 bad_request
)

// ConfigError is a router config the backend refuses (422 invalid_config).
// A backend may return a *spec.FieldError (what config parsing returns)
// instead: the server answers it the same way, its Path as the field.
type ConfigError struct {
	Field  string // the offending key, as "router.layers[1].p"; "" if unknown
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Actor is one node of the supervised actor tree.
type Actor struct {
	Name        string      `json:"name"`
	Path        string      `json:"path"`   // "engine/flow/0"; the parent is the path without its last element
	Status      string      `json:"status"` // running | restarting | failed | stopped
	Restarts    uint64      `json:"restarts"`
	LastError   string      `json:"last_error,omitempty"`
	LastErrorAt time.Time   `json:"last_error_at,omitzero"`
	Rings       []RingDepth `json:"rings,omitempty"`
}

// RingDepth is how full one of an actor's rings is.
type RingDepth struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
	Cap  int    `json:"cap"`
}

// RouterSnapshot is the router config in use.
type RouterSnapshot struct {
	Version uint64
	Config  spec.Router
	// Source says where it came from: "profile", a file path, or "admin"
	// for a PUT /router.
	Source string
	// Loaded is when this version was swapped in.
	Loaded time.Time
}

// ExpertOp is an action on one expert.
type ExpertOp uint8

// Expert actions, by the last element of their POST path.
const (
	OpRestart ExpertOp = iota + 1 // clear the failed state after a panic (operator)
	OpForce                       // abstain without being called (operator)
	OpUnforce                     // run again (operator)
	OpRetire                      // abstain permanently (admin)
)

// expertOpNames are the actions' names, by ExpertOp.
var expertOpNames = enumNames{OpRestart: "restart", OpForce: "force", OpUnforce: "unforce", OpRetire: "retire"}

func (o ExpertOp) String() string { return expertOpNames.name(uint8(o), "invalid") }

func parseExpertOp(s string) (ExpertOp, bool) {
	v, ok := expertOpNames.parse(s)
	return ExpertOp(v), ok
}

// LayerExperts is one router layer's experts.
type LayerExperts struct {
	Layer   int           `json:"layer"`
	Experts []ExpertStats `json:"experts"`
}

// ExpertStats is one expert's state and counters (from its Guard).
type ExpertStats struct {
	Layer      int
	Name       string
	Kind       string // momentum | mean_reversion | order_flow | mlp | remote
	Status     string // running | failed | forced | retired
	Calls      uint64 // calls, including skipped ones
	Abstains   uint64 // abstentions for any reason
	Panics     uint64
	OverBudget uint64 // calls slower than Budget
	Invalid    uint64 // outputs replaced by an abstention
	Restarts   uint64
	Failed     bool // panicked; abstains until restarted
	Forced     bool // forced to abstain (by an operator or ladder step 6)
	Retired    bool
	Budget     time.Duration
	P50, P99   time.Duration // over the recent calls
	LastError  string
	LastErrAt  time.Time
}

// FlagStatus is the Status the flags give: retired, failed, forced or
// running, the first that applies. A backend fills Status with it.
func (s ExpertStats) FlagStatus() string {
	switch {
	case s.Retired:
		return "retired"
	case s.Failed:
		return "failed"
	case s.Forced:
		return "forced"
	}
	return "running"
}

// MarshalJSON writes durations as microseconds (p50_us, …).
func (s ExpertStats) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Layer      int       `json:"layer"`
		Name       string    `json:"name"`
		Kind       string    `json:"kind"`
		Status     string    `json:"status"`
		Calls      uint64    `json:"calls"`
		Abstains   uint64    `json:"abstains"`
		Panics     uint64    `json:"panics"`
		OverBudget uint64    `json:"over_budget"`
		Invalid    uint64    `json:"invalid"`
		Restarts   uint64    `json:"restarts"`
		Failed     bool      `json:"failed"`
		Forced     bool      `json:"forced"`
		Retired    bool      `json:"retired"`
		BudgetUs   float64   `json:"budget_us"`
		P50Us      float64   `json:"p50_us"`
		P99Us      float64   `json:"p99_us"`
		LastError  string    `json:"last_error,omitempty"`
		LastErrAt  time.Time `json:"last_error_at,omitzero"`
	}{s.Layer, s.Name, s.Kind, s.Status, s.Calls, s.Abstains, s.Panics, s.OverBudget, s.Invalid,
		s.Restarts, s.Failed, s.Forced, s.Retired, micros(s.Budget), micros(s.P50), micros(s.P99),
		s.LastError, s.LastErrAt})
}

func micros(d time.Duration) float64 { return float64(d) / 1e3 }

// DenyEntry halts one symbol of one tenant.
type DenyEntry struct {
	Tenant string `json:"tenant"`
	Symbol string `json:"symbol"`
}

// RiskState is the risk kill switch and its counters.
type RiskState struct {
	HaltAll       bool        `json:"halt_all"`
	Deny          []DenyEntry `json:"deny"`
	Breaches      uint64      `json:"breaches"`       // decisions that breached a limit
	Flagged       uint64      `json:"flagged"`        // decisions replaced by abstain
	ForcedAbstain bool        `json:"forced_abstain"` // ladder step 6 in force
}

// Summary is a progress snapshot: what the dashboard's headline shows.
// Rates are over the backend's last progress interval.
type Summary struct {
	Time            time.Time          `json:"time"` // wall clock of the snapshot
	UptimeSec       float64            `json:"uptime_s"`
	Feed            string             `json:"feed"` // "synthetic", "dbn", "journal"
	Tenant          string             `json:"tenant"`
	Partitions      int                `json:"partitions"`
	Ticks           uint64             `json:"ticks"`
	TicksPerSec     float64            `json:"ticks_per_s"`
	Windows         uint64             `json:"windows"`
	WindowsPerSec   float64            `json:"windows_per_s"`
	Decisions       uint64             `json:"decisions"`
	DecisionsPerSec float64            `json:"decisions_per_s"`
	Rejects         uint64             `json:"rejects"`
	LagMs           float64            `json:"lag_ms"`         // newest event time behind the wall clock
	Backlog         uint64             `json:"backlog"`        // ticks waiting in the partition rings
	RingWaits       uint64             `json:"ring_waits"`     // times a producer found a ring full
	LatencyP50Us    float64            `json:"latency_p50_us"` // window close → trace
	LatencyP99Us    float64            `json:"latency_p99_us"`
	Ladder          Ladder             `json:"ladder"`
	RouterVersion   uint64             `json:"router_version"`
	Router          []RouterLayerStats `json:"router"`
	HaltAll         bool               `json:"halt_all"`
	Halted          int                `json:"halted"` // deny entries
	PnL             float64            `json:"pnl"`    // paper book, mark to market
	Trades          uint64             `json:"trades"`
}

// Ladder is the backpressure ladder's position (seed 004 §9).
type Ladder struct {
	Step   int    `json:"step"` // 0 (normal) to MaxLadderStep
	Name   string `json:"name"` // LadderStepName(Step)
	Reason string `json:"reason,omitempty"`
}

// MaxLadderStep is the last step of the backpressure ladder.
const MaxLadderStep = 6

// LadderStepName names a step of the backpressure ladder (seed 004 §9).
func LadderStepName(step int) string {
	switch step {
	case 0:
		return "normal"
	case 1:
		return "widen window"
	case 2:
		return "no overlap"
	case 3:
		return "lower p"
	case 4:
		return "coarse recipe"
	case 5:
		return "core features"
	case 6:
		return "force abstain"
	}
	return "invalid"
}

// RouterLayerStats are one router layer's metrics (seed 004 §7).
type RouterLayerStats struct {
	Layer               int     `json:"layer"`
	Experts             int     `json:"experts"`
	P                   float64 `json:"p"` // the layer's p threshold in use
	Tokens              uint64  `json:"tokens"`
	ExpertsPerToken     float64 `json:"experts_per_token"`
	LoadBalance         float64 `json:"load_balance"` // stddev/mean of tokens per expert
	CapacityUtilization float64 `json:"capacity_utilization"`
	Entropy             float64 `json:"entropy"`
	Undercovered        uint64  `json:"undercovered"`
}

// Decision is one DecisionTrace as the dashboard shows it.
type Decision struct {
	Time          time.Time `json:"time"` // the window's end, event time
	Tenant        string    `json:"tenant"`
	Symbol        string    `json:"symbol"`
	Action        string    `json:"action"`   // buy | sell | hold | abstain, after risk
	Proposed      string    `json:"proposed"` // before risk
	Confidence    float64   `json:"confidence"`
	RiskFlags     []string  `json:"risk_flags"`
	RouterVersion uint64    `json:"router_version"`
	Experts       []string  `json:"experts"` // the final layer's selected experts
	Position      int64     `json:"position"`
	PnL           float64   `json:"pnl"`
	LatencyUs     float64   `json:"latency_us"` // window close → trace
}
