package admin

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"thunderline/actors/eye"
	"thunderline/actors/link"
	"thunderline/adapters/edgar/filings"
	"thunderline/engine"
	"thunderline/engine/config"
	"thunderline/engine/report"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/decide/spec"
	"thunderline/hotpath/window"
)

// Admin is the pipeline's side of the admin HTTP server (eye.Backend): it
// reads counters the data plane publishes through atomics and acts through
// the control paths (router reloads in band, the deny list, expert guards).
// Nothing here touches the hot path.
type Admin struct {
	p       *engine.Pipeline
	hub     *eye.Hub
	bus     *link.Bus
	fed     federations
	sse     http.Handler
	started time.Time
	feed    string

	mu         sync.Mutex
	last       engine.Progress // for rates
	lastAt     time.Time
	retired    map[string]bool // "layer/name": stays forced across reloads
	cached     eye.Summary
	haveCached bool
	loaded     time.Time
	source     string
}

// New returns the backend of a pipeline; feed names the input.
func New(p *engine.Pipeline, feed string) *Admin {
	bus := link.New(link.Options{})
	return &Admin{p: p, hub: eye.NewHub(eye.HubOptions{}), bus: bus, sse: link.SSEHandler(bus), started: time.Now(), feed: feed,
		retired: map[string]bool{}, loaded: time.Now(), source: p.Profile().Source()}
}

// Bus is the run's pub/sub (topics feature_windows:market, decisions,
// risk).
func (a *Admin) Bus() *link.Bus { return a.bus }

// Hub is the dashboard stream the admin server serves.
func (a *Admin) Hub() *eye.Hub { return a.hub }

// Live implements eye.Backend.
func (a *Admin) Live() error { return nil }

// Ready implements eye.Backend: ready once the pipeline runs.
func (a *Admin) Ready() error {
	if !a.p.Running() {
		return errors.New("the pipeline is not running")
	}
	return a.p.JournalError()
}

// Actors implements eye.Backend: the components of the run with their
// state and ring depths.
func (a *Admin) Actors() []eye.Actor {
	var out []eye.Actor
	for _, n := range a.p.Actors() {
		ac := eye.Actor{Name: n.Name, Path: n.Path, Status: n.Status, Restarts: n.Restarts, LastError: n.LastError, LastErrorAt: n.LastErrorAt}
		for _, r := range n.Rings {
			ac.Rings = append(ac.Rings, eye.RingDepth{Name: r.Name, Len: r.Len, Cap: r.Cap})
		}
		out = append(out, ac)
	}
	return out
}

// Router implements eye.Backend.
func (a *Admin) Router() eye.RouterSnapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := a.p.RouterVersion()
	cfg, _ := a.p.RouterConfig(v)
	return eye.RouterSnapshot{Version: v, Config: cfg, Source: a.source, Loaded: a.loaded}
}

// ReloadRouter implements eye.Backend: validated, then swapped in band.
func (a *Admin) ReloadRouter(_ context.Context, cfg *config.Router) (uint64, error) {
	if err := cfg.Validate(); err != nil {
		return 0, configError(err)
	}
	if err := a.p.ReloadRouter(*cfg); err != nil {
		return 0, configError(err)
	}
	a.mu.Lock()
	a.loaded, a.source = time.Now(), "admin PUT /router"
	a.mu.Unlock()
	return cfg.WithDefaults().Version, nil
}

// configError gives eye a refused router config: the *spec.FieldError that
// validation returned names its field; anything else is refused whole.
func configError(err error) error {
	var fe *spec.FieldError
	if errors.As(err, &fe) {
		return err
	}
	return &eye.ConfigError{Reason: err.Error()}
}

func (a *Admin) guard(layer int, name string) (*decide.Model, int, error) {
	if a.p.Stage() == nil {
		return nil, 0, eye.ErrUnavailable
	}
	m := a.p.Stage().Current()
	if layer < 0 || layer >= len(m.Layers) {
		return nil, 0, eye.ErrNotFound
	}
	for i, g := range m.Layers[layer].Experts {
		if g.Name() == name {
			return m, i, nil
		}
	}
	return nil, 0, eye.ErrNotFound
}

func (a *Admin) expertStats(layer int, m *decide.Model, i int) eye.ExpertStats {
	g := m.Layers[layer].Experts[i]
	gs := g.Stats()
	s := eye.ExpertStats{Layer: layer, Name: gs.Name, Kind: g.Kind(), Calls: gs.Calls, Abstains: gs.Abstains,
		Panics: gs.Panics, OverBudget: gs.OverBudget, Invalid: gs.Invalid, Restarts: gs.Restarts,
		Failed: gs.Failed, Forced: gs.Forced, Budget: gs.Budget, P50: gs.P50, P99: gs.P99,
		LastError: gs.LastError, LastErrAt: gs.LastErrAt}
	s.Retired = a.isRetired(layer, gs.Name)
	switch {
	case s.Retired:
		s.Status = "retired"
	case s.Failed:
		s.Status = "failed"
	case s.Forced:
		s.Status = "forced"
	default:
		s.Status = "running"
	}
	return s
}

// Experts implements eye.Backend.
func (a *Admin) Experts() []eye.LayerExperts {
	if a.p.Stage() == nil {
		return nil
	}
	m := a.p.Stage().Current()
	var out []eye.LayerExperts
	for l := range m.Layers {
		le := eye.LayerExperts{Layer: l}
		for i := range m.Layers[l].Experts {
			le.Experts = append(le.Experts, a.expertStats(l, m, i))
		}
		out = append(out, le)
	}
	return out
}

// ExpertAction implements eye.Backend.
func (a *Admin) ExpertAction(_ context.Context, layer int, name string, op eye.ExpertOp) (eye.ExpertStats, error) {
	m, i, err := a.guard(layer, name)
	if err != nil {
		return eye.ExpertStats{}, err
	}
	key := retiredKey(layer, name)
	// Applied in band (engine.Pipeline.Operate): the stage carries it out
	// at the input position the reader gives it, and the journal holds it
	// there, so a replay decides the same.
	o := decide.Op{Layer: layer, Expert: name}
	switch op {
	case eye.OpRestart:
		o.Kind = decide.OpRestart
	case eye.OpForce:
		o.Kind = decide.OpForce
	case eye.OpUnforce:
		if a.isRetired(layer, name) {
			return eye.ExpertStats{}, fmt.Errorf("%w: expert %s is retired", eye.ErrConflict, key)
		}
		o.Kind = decide.OpUnforce
	case eye.OpRetire:
		o.Kind = decide.OpRetire
	default:
		return eye.ExpertStats{}, eye.ErrBadRequest
	}
	if err := a.p.Operate(o); err != nil {
		return eye.ExpertStats{}, fmt.Errorf("%w: %v", eye.ErrUnavailable, err)
	}
	if o.Kind == decide.OpRetire {
		a.mu.Lock()
		a.retired[key] = true
		a.mu.Unlock()
	}
	return a.expertStats(layer, m, i), nil
}

// isRetired reports whether expert name of layer was retired.
func (a *Admin) isRetired(layer int, name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.retired[retiredKey(layer, name)]
}

func retiredKey(layer int, name string) string { return fmt.Sprintf("%d/%s", layer, name) }

// Risk implements eye.Backend.
func (a *Admin) Risk() eye.RiskState {
	if a.p.Stage() == nil {
		return eye.RiskState{}
	}
	d := a.p.Stage().Deny()
	rs := eye.RiskState{HaltAll: d.AllHalted()}
	for _, e := range d.List() {
		rs.Deny = append(rs.Deny, eye.DenyEntry{Tenant: e[0], Symbol: e[1]})
	}
	rs.Breaches, _, rs.Flagged, _, rs.ForcedAbstain = a.p.Stage().RiskCounters()
	return rs
}

// SetDeny implements eye.Backend.
func (a *Admin) SetDeny(_ context.Context, e eye.DenyEntry, deny bool) error {
	if a.p.Stage() == nil {
		return eye.ErrUnavailable
	}
	if e.Tenant == "" || e.Symbol == "" {
		return fmt.Errorf("%w: a deny entry needs a tenant and a symbol", eye.ErrBadRequest)
	}
	kind := decide.OpUndeny
	if deny {
		kind = decide.OpDeny
		if a.p.Stage().Deny().Full(e.Tenant, e.Symbol) {
			return fmt.Errorf("%w: the deny list holds %d entries, its limit: release some, or use the kill switch", eye.ErrConflict, decide.MaxDenyEntries)
		}
	}
	if err := a.p.Operate(decide.Op{Kind: kind, Tenant: e.Tenant, Symbol: e.Symbol}); err != nil {
		return fmt.Errorf("%w: %v", eye.ErrUnavailable, err)
	}
	return nil
}

// HaltAll implements eye.Backend.
func (a *Admin) HaltAll(_ context.Context, on bool) error {
	if a.p.Stage() == nil {
		return eye.ErrUnavailable
	}
	kind := decide.OpResume
	if on {
		kind = decide.OpHalt
	}
	if err := a.p.Operate(decide.Op{Kind: kind}); err != nil {
		return fmt.Errorf("%w: %v", eye.ErrUnavailable, err)
	}
	return nil
}

// Summary implements eye.Backend: the latest summary Run computed (rates
// over its last interval), or a fresh one before the first.
func (a *Admin) Summary() eye.Summary {
	a.mu.Lock()
	s, ok := a.cached, a.haveCached
	a.mu.Unlock()
	if ok {
		return s
	}
	return a.compute()
}

// Run computes the summary every interval and publishes it to the
// dashboard stream, until ctx is done.
func (a *Admin) Run(ctx context.Context, every time.Duration) {
	stop := report.Every(every, func() {
		s := a.compute()
		a.mu.Lock()
		a.cached, a.haveCached = s, true
		a.mu.Unlock()
		a.hub.PublishSummary(s)
	})
	<-ctx.Done()
	stop()
}

func (a *Admin) compute() eye.Summary {
	p := a.p
	pr := p.Snapshot(a.started)
	now := time.Now()
	a.mu.Lock()
	first := a.lastAt.IsZero()
	dt := now.Sub(a.lastAt).Seconds()
	last := a.last
	a.last, a.lastAt = pr, now
	a.mu.Unlock()
	rate := func(cur, prev uint64) float64 {
		if dt <= 0 || first || cur < prev {
			return 0
		}
		return float64(cur-prev) / dt
	}
	s := eye.Summary{Time: now, UptimeSec: now.Sub(a.started).Seconds(), Feed: a.feed, Tenant: p.Profile().TenantName(),
		Partitions: p.Partitions(), Ticks: pr.Ticks, TicksPerSec: rate(pr.Ticks, last.Ticks), Windows: pr.Windows,
		WindowsPerSec: rate(pr.Windows, last.Windows), Rejects: pr.Rejects, LagMs: float64(pr.Lag) / 1e6,
		Backlog: pr.Backlog, RingWaits: pr.RingWaits, Ladder: eye.Ladder{Step: 0, Name: eye.LadderStepName(0)}}
	if l := p.Ladder(); l != nil {
		step := int(l.Step.Load())
		s.Ladder = eye.Ladder{Step: step, Name: eye.LadderStepName(step)}
		if ev := l.LastEvent(); ev != nil {
			s.Ladder.Reason = ev.Reason
		}
	}
	if st := p.Stage(); st != nil {
		m := st.Metrics()
		s.Decisions, s.DecisionsPerSec = pr.Decisions, rate(pr.Decisions, last.Decisions)
		s.RouterVersion = m.Version.Load()
		cur := st.Current()
		for l := range cur.Layers {
			lm := &m.Layers[l]
			tok := lm.Tokens.Load()
			rl := eye.RouterLayerStats{Layer: l, Experts: cur.Layers[l].Router.Experts(), P: cur.Layers[l].Router.Config().P,
				Tokens: tok, LoadBalance: lm.LoadBalanceRatio.Load(), CapacityUtilization: lm.CapacityUtilization.Load(),
				Entropy: lm.Entropy.Load(), Undercovered: lm.Undercovered.Load()}
			if tok > 0 {
				rl.ExpertsPerToken = lm.Pairs.Load() / float64(tok)
			}
			s.Router = append(s.Router, rl)
		}
		p50, p99, _, _ := st.Latency()
		s.LatencyP50Us, s.LatencyP99Us = float64(p50)/1e3, float64(p99)/1e3
		d := st.Deny()
		s.HaltAll, s.Halted = d.AllHalted(), len(d.List())
		s.PnL, s.Trades = st.PaperTotals()
	}
	return s
}

// Metrics implements eye.Backend.
func (a *Admin) Metrics() http.Handler {
	reg := a.p.Registry()
	reg.MustRegister(a.hub)
	if a.fed.Metrics != nil {
		reg.MustRegister(a.fed.Metrics)
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// Stream implements eye.Backend: the dashboard's stream, or with
// ?topics=… the pub/sub topics (link's SSE: feature_windows:market,
// decisions, risk).
func (a *Admin) Stream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("topics") {
			a.sse.ServeHTTP(w, r)
			return
		}
		a.hub.ServeHTTP(w, r)
	})
}

// publishDecision sends a trace to the dashboard stream; called on the
// sink goroutine, at most maxDashDecisions a second.
func (a *Admin) publishDecision(t *decide.DecisionTrace, name, tenant string) {
	d := eye.Decision{Time: time.Unix(0, t.End).UTC(), Tenant: tenant, Symbol: name,
		Action: decide.ActionName(t.Action), Proposed: decide.ActionName(t.Proposed), Confidence: float64(t.Confidence),
		RiskFlags: decide.RiskNames(t.RiskFlags), RouterVersion: t.RouterVersion, Position: t.Position, PnL: t.PnL,
		LatencyUs: float64(t.LatencyNs) / 1e3}
	if m := a.p.Model(t.RouterVersion); m != nil && t.Layers > 0 {
		last := int(t.Layers) - 1
		for _, ac := range t.Actions[last][:t.NSel[last]] {
			if int(ac.Expert) < len(m.Layers[last].Experts) {
				d.Experts = append(d.Experts, m.Layers[last].Experts[ac.Expert].Name())
			}
		}
	}
	a.hub.PublishDecision(d)
}

// Tokens resolves the profile's tokens (values from the environment);
// with none configured it generates an admin token, returned as generated.
func Tokens(prof *config.Profile) (tokens []eye.Token, generated *eye.Token, err error) {
	for i, t := range prof.Admin.Tokens {
		role, err := eye.ParseRole(t.Role)
		if err != nil {
			return nil, nil, fmt.Errorf("admin.tokens[%d].role: %w", i, err)
		}
		v := t.Value
		if t.ValueEnv != "" {
			v = os.Getenv(t.ValueEnv)
			if v == "" {
				return nil, nil, fmt.Errorf("admin.tokens[%d].value_env: %s is not set", i, t.ValueEnv)
			}
		}
		tokens = append(tokens, eye.Token{Value: v, Role: role})
	}
	if len(tokens) == 0 {
		g, err := eye.GenerateToken()
		if err != nil {
			return nil, nil, err
		}
		return []eye.Token{g}, &g, nil
	}
	return tokens, nil, nil
}

// Attach wires the admin backend to the pipeline's trace feed: at most
// maxDashDecisions decisions a second reach the dashboard (the hub caps
// too, but this keeps the JSON off the sink for the rest).
func (a *Admin) Attach() {
	const maxDashDecisions = 100
	var windowStart time.Time
	n := 0
	tenant := a.p.Profile().TenantName()
	// The journal's outages and space warnings, on the risk topic.
	a.p.OnJournal = func(ev engine.JournalEvent) {
		if b, err := json.Marshal(map[string]any{"journal": ev}); err == nil {
			a.bus.Publish("risk", b)
		}
	}
	a.p.OnWindow = func(w *window.FeatureWindow) {
		if b, err := json.Marshal(windowJSON(w, a.p.Symbols().Name(w.Symbol), tenant)); err == nil {
			a.bus.Publish("feature_windows:market", b)
		}
	}
	// The filings path (edgar section): its windows on
	// feature_windows:edgar, its traces on decisions, as the market's.
	a.p.OnEdgarWindow = func(w *filings.Window) {
		m := windowJSON(&w.W, w.Key, tenant)
		m["status"] = w.W.Status.String()
		m["fill"] = w.Fill
		m["provenance"] = map[string]any{"cik": w.Prov.CIK, "form": w.Prov.Form, "accession": w.Prov.Accession,
			"period_end": time.Unix(0, w.Prov.PeriodEnd).UTC().Format("2006-01-02"), "docs": w.Prov.Docs, "missing": w.Prov.Missing}
		if b, err := json.Marshal(m); err == nil {
			a.bus.Publish("feature_windows:edgar", b)
		}
	}
	a.p.OnEdgarTrace = func(t *decide.DecisionTrace, key string) {
		if b, err := json.Marshal(traceJSON(t, key, tenant)); err == nil {
			a.bus.Publish("decisions", b)
			if t.RiskFlags != 0 {
				a.bus.Publish("risk", b)
			}
		}
	}
	a.p.OnTrace = func(t *decide.DecisionTrace) {
		name := a.p.Symbols().Name(t.Symbol)
		if b, err := json.Marshal(traceJSON(t, name, tenant)); err == nil {
			a.bus.Publish("decisions", b)
			if t.RiskFlags != 0 {
				a.bus.Publish("risk", b)
			}
		}
		if n >= maxDashDecisions {
			if time.Since(windowStart) < time.Second {
				return
			}
		}
		if time.Since(windowStart) >= time.Second {
			windowStart, n = time.Now(), 0
		}
		n++
		a.publishDecision(t, name, tenant)
	}
}

// PublishLadder sends a ladder change to the risk topic.
func (a *Admin) PublishLadder(ev any) {
	if b, err := json.Marshal(map[string]any{"ladder": ev}); err == nil {
		a.bus.Publish("risk", b)
	}
}

func windowJSON(w *window.FeatureWindow, name, tenant string) map[string]any {
	feats := map[string]float64{}
	for _, f := range w.Recipe.Features() {
		feats[f.String()] = w.Features[f.Slot()]
	}
	return map[string]any{"id": window.FormatUUID(w.ID), "tenant": tenant, "kind": w.Kind.String(), "key": name,
		"window_start": w.Start, "window_end": w.End, "recipe": w.Recipe.String(), "feature_schema_version": w.SchemaVersion,
		"features": feats, "ticks": w.Ticks, "hash": hex.EncodeToString(w.Hash[:])}
}

func traceJSON(t *decide.DecisionTrace, name, tenant string) map[string]any {
	return map[string]any{"id": window.FormatUUID(t.ID), "feature_window_id": window.FormatUUID(t.WindowID), "tenant": tenant,
		"key": name, "window_end": t.End, "router_version": t.RouterVersion, "action": decide.ActionName(t.Action),
		"proposed": decide.ActionName(t.Proposed), "confidence": t.Confidence, "risk_flags": decide.RiskNames(t.RiskFlags),
		"position": t.Position, "pnl": t.PnL, "hash": hex.EncodeToString(t.Hash[:])}
}

// SwapExpert implements eye.Backend: a new router version in which one
// expert runs a new spec (e.g. new weights), swapped in band like any
// reload; the other experts carry over.
func (a *Admin) SwapExpert(_ context.Context, layer int, name string, spec config.ExpertSpec) (uint64, error) {
	p := a.p
	if p.Stage() == nil {
		return 0, eye.ErrUnavailable
	}
	m, idx, err := a.guard(layer, name)
	if err != nil {
		return 0, err
	}
	cur := m.Version
	rc, ok := p.RouterConfig(cur)
	if !ok {
		return 0, fmt.Errorf("%w: router version %d has no config", eye.ErrConflict, cur)
	}
	l := &rc.Layers[layer]
	for len(l.List) <= idx {
		l.List = append(l.List, config.ExpertSpec{Name: m.Layers[layer].Experts[len(l.List)].Name(), Kind: "mlp", Hidden: 32})
	}
	spec.Name = name
	l.List[idx] = spec
	rc.Version = p.RouterVersion() + 1
	if err := rc.Validate(); err != nil {
		return 0, configError(err)
	}
	if err := p.ReloadRouter(rc); err != nil {
		return 0, configError(err)
	}
	return rc.Version, nil
}
