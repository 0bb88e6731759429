package eye

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"thunderline/hotpath/decide/spec"
)

// fakeBackend is an in-process Backend for unit tests: plain state behind a
// mutex, a real Hub for the stream and a real Prometheus registry.
type fakeBackend struct {
	hub *Hub
	reg *prometheus.Registry

	mu       sync.Mutex
	ready    error
	version  uint64
	cfg      spec.Router
	reloads  int
	experts  []LayerExperts
	deny     []DenyEntry
	haltAll  bool
	summary  Summary
	streamed []string // URL and Authorization header of each request the stream saw

	haltCh chan bool // every HaltAll call, for tests to wait on
}

func newFakeBackend() *fakeBackend {
	f := &fakeBackend{hub: NewHub(HubOptions{Heartbeat: time.Minute}), reg: prometheus.NewRegistry(),
		version: 3, haltCh: make(chan bool, 16)}
	f.cfg = spec.Router{Version: 3, EmbedDim: 16, MaxBatch: 256, Layers: []spec.RouterLayer{{
		Experts: 4, CapacityFactor: 2, P: 0.65, MaxExpertsPerToken: 3, Undercovered: "argmax",
		List: []spec.ExpertSpec{{Name: "momentum", Kind: "momentum"}, {Name: "mean_reversion", Kind: "mean_reversion"},
			{Name: "order_flow", Kind: "order_flow"}, {Name: "mlp_head", Kind: "mlp", Hidden: 32}}}}}
	f.experts = []LayerExperts{{Layer: 0, Experts: []ExpertStats{
		{Layer: 0, Name: "momentum", Kind: "momentum", Status: "failed", Calls: 1200, Abstains: 300, Panics: 1, Failed: true,
			Budget: time.Millisecond, P50: 2 * time.Microsecond, P99: 9 * time.Microsecond, LastError: `expert "momentum" panicked: index out of range`},
		{Layer: 0, Name: "mean_reversion", Kind: "mean_reversion", Status: "running", Calls: 1200, Abstains: 40,
			Budget: time.Millisecond, P50: 3 * time.Microsecond, P99: 11 * time.Microsecond},
		{Layer: 0, Name: "order_flow", Kind: "order_flow", Status: "running", Calls: 1200, Abstains: 10,
			Budget: time.Millisecond, P50: 2 * time.Microsecond, P99: 7 * time.Microsecond},
		{Layer: 0, Name: "mlp_head", Kind: "mlp", Status: "running", Calls: 1200, Abstains: 0, OverBudget: 3,
			Budget: time.Millisecond, P50: 40 * time.Microsecond, P99: 1300 * time.Microsecond},
	}}}
	f.deny = []DenyEntry{{Tenant: "default", Symbol: "CLZ4"}}
	f.summary = Summary{Time: time.Date(2024, 7, 2, 0, 0, 0, 0, time.UTC), UptimeSec: 75, Feed: "synthetic", Tenant: "default",
		Partitions: 2, Ticks: 9_876_543, TicksPerSec: 123456, Windows: 40960, WindowsPerSec: 128, Decisions: 40000,
		DecisionsPerSec: 127, Rejects: 321, LagMs: 4.2, Backlog: 1500, RingWaits: 7, LatencyP50Us: 85, LatencyP99Us: 410,
		Ladder: Ladder{Step: 0, Name: LadderStepName(0)}, RouterVersion: 3, Halted: 1, PnL: 12.5, Trades: 40,
		Router: []RouterLayerStats{{Layer: 0, Experts: 4, P: 0.65, Tokens: 40000, ExpertsPerToken: 1.8, LoadBalance: 0.12,
			CapacityUtilization: 0.9, Entropy: 1.1, Undercovered: 2}}}
	ticks := prometheus.NewCounter(prometheus.CounterOpts{Name: "thunderline_ticks_total", Help: "Ticks."})
	ticks.Add(9876543)
	f.reg.MustRegister(ticks, f.hub)
	return f
}

func (f *fakeBackend) Live() error { return nil }

func (f *fakeBackend) Ready() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeBackend) Actors() []Actor {
	return []Actor{
		{Name: "engine", Path: "engine", Status: "running"},
		{Name: "chief", Path: "engine/chief", Status: "running"},
		{Name: "flow/0", Path: "engine/flow/0", Status: "running", Rings: []RingDepth{{Name: "in", Len: 900, Cap: 4096}}},
		{Name: "flow/1", Path: "engine/flow/1", Status: "restarting", Restarts: 2, LastError: "partition 1: boom",
			LastErrorAt: time.Date(2024, 7, 2, 0, 0, 1, 0, time.UTC), Rings: []RingDepth{{Name: "in", Len: 4000, Cap: 4096}}},
		{Name: "eye", Path: "engine/eye", Status: "running"},
	}
}

func (f *fakeBackend) Router() RouterSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return RouterSnapshot{Version: f.version, Config: f.cfg, Source: "profile"}
}

func (f *fakeBackend) ReloadRouter(ctx context.Context, cfg *spec.Router) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cfg.Weights == "missing.safetensors" {
		return 0, &ConfigError{Field: "router.weights", Reason: "open missing.safetensors: no such file"}
	}
	if cfg.Version <= f.version {
		return 0, &ConfigError{Field: "router.version", Reason: "must rise"}
	}
	f.version, f.cfg = cfg.Version, *cfg
	f.reloads++
	return f.version, nil
}

func (f *fakeBackend) Experts() []LayerExperts {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]LayerExperts, len(f.experts))
	for i, l := range f.experts {
		out[i] = LayerExperts{Layer: l.Layer, Experts: append([]ExpertStats(nil), l.Experts...)}
	}
	return out
}

func (f *fakeBackend) SwapExpert(ctx context.Context, layer int, name string, spec spec.ExpertSpec) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if layer >= len(f.experts) {
		return 0, ErrNotFound
	}
	if spec.Kind == "" {
		return 0, &ConfigError{Field: "kind", Reason: "missing"}
	}
	f.version++
	return f.version, nil
}

func (f *fakeBackend) ExpertAction(ctx context.Context, layer int, name string, op ExpertOp) (ExpertStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if layer >= len(f.experts) {
		return ExpertStats{}, fmt.Errorf("layer %d: %w", layer, ErrNotFound)
	}
	for i := range f.experts[layer].Experts {
		e := &f.experts[layer].Experts[i]
		if e.Name != name {
			continue
		}
		switch op {
		case OpRestart:
			if e.Failed {
				e.Failed = false
				e.Restarts++
			}
		case OpForce:
			e.Forced = true
		case OpUnforce:
			if e.Retired {
				return ExpertStats{}, fmt.Errorf("expert %s is retired: %w", name, ErrConflict)
			}
			e.Forced = false
		case OpRetire:
			e.Retired, e.Forced = true, true
		}
		e.Status = e.FlagStatus()
		return *e, nil
	}
	return ExpertStats{}, fmt.Errorf("expert %q of layer %d: %w", name, layer, ErrNotFound)
}

func (f *fakeBackend) Risk() RiskState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return RiskState{HaltAll: f.haltAll, Deny: append([]DenyEntry(nil), f.deny...), Breaches: 5, Flagged: 4}
}

func (f *fakeBackend) SetDeny(ctx context.Context, e DenyEntry, deny bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, d := range f.deny {
		if d == e {
			if !deny {
				f.deny = append(f.deny[:i], f.deny[i+1:]...)
			}
			return nil
		}
	}
	if !deny {
		return fmt.Errorf("deny entry (%s, %s): %w", e.Tenant, e.Symbol, ErrNotFound)
	}
	f.deny = append(f.deny, e)
	return nil
}

func (f *fakeBackend) HaltAll(ctx context.Context, on bool) error {
	f.mu.Lock()
	f.haltAll = on
	f.mu.Unlock()
	select {
	case f.haltCh <- on:
	default:
	}
	return nil
}

func (f *fakeBackend) Summary() Summary {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.summary
	s.HaltAll, s.RouterVersion = f.haltAll, f.version
	return s
}

func (f *fakeBackend) Metrics() http.Handler {
	return promhttp.HandlerFor(f.reg, promhttp.HandlerOpts{})
}

func (f *fakeBackend) Stream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.streamed = append(f.streamed, r.RequestURI+" "+r.URL.String()+" auth="+r.Header.Get("Authorization"))
		f.mu.Unlock()
		f.hub.ServeHTTP(w, r)
	})
}
