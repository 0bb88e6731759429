package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Router is the `router:` section: the layered hybrid Expert-Choice +
// Dynamic Top-P router and its experts (seed 004 §7). It can also stand
// alone in a file (LoadRouter) for hot reloads.
type Router struct {
	Enabled  *bool  `yaml:"enabled"`   // [true]
	Version  uint64 `yaml:"version"`   // [1]; a reload must raise it
	Seed     uint64 `yaml:"seed"`      // seeds gate matrices, the projection and seeded MLPs [7]
	EmbedDim int    `yaml:"embed_dim"` // first layer's input [16]
	MaxBatch int    `yaml:"max_batch"` // tokens per routing batch [256]
	// Weights is an optional safetensors file with trained matrices:
	// "embed.proj" (embed_dim × 13 features) and "layers.<l>.gate"
	// (input dim × experts), float32 row-major. Missing ones are seeded.
	Weights string        `yaml:"weights"`
	Layers  []RouterLayer `yaml:"layers"`
	// Shadow lists candidate experts (at most 2, action heads: mlp with
	// weights, or a built-in head) run in shadow mode: evaluated on every
	// routed window's first-layer embedding and traced, never voting.
	Shadow []ExpertSpec `yaml:"shadow"`
}

// RouterLayer is one layer (seed 004 §7 config).
type RouterLayer struct {
	Experts            int     `yaml:"experts"`
	CapacityFactor     float64 `yaml:"capacity_factor"`
	P                  float64 `yaml:"p"`
	MaxExpertsPerToken int     `yaml:"max_experts_per_token"` // [0: no cap; required ≤ 8 when experts > 8]
	Undercovered       string  `yaml:"undercovered"`          // abstain | argmax [argmax]
	// OutDim is a hidden layer's output dimension (the next layer's input)
	// [embed_dim]; the final layer emits actions and takes no out_dim.
	OutDim int `yaml:"out_dim"`
	// List names the layer's first experts; the rest are seeded MLPs.
	List []ExpertSpec `yaml:"list"`
}

// ExpertSpec is one expert.
type ExpertSpec struct {
	Name   string             `yaml:"name"`
	Kind   string             `yaml:"kind"`   // momentum | mean_reversion | order_flow | mlp | remote
	Budget Duration           `yaml:"budget"` // latency budget per call [1ms]
	Params map[string]float64 `yaml:"params"` // kind-specific numbers (see README)
	// mlp
	Hidden  int    `yaml:"hidden"`  // hidden units [32]
	Seed    uint64 `yaml:"seed"`    // seeded weights when no file [router seed + position]
	Weights string `yaml:"weights"` // safetensors with <prefix>.w1/.b1/.w2/.b2
	Prefix  string `yaml:"prefix"`  // [the expert's name]
	// remote
	Socket   string   `yaml:"socket"`   // unix socket of the out-of-process model
	Deadline Duration `yaml:"deadline"` // per call [500µs]
	// Embedding: the remote model reads the layer's embedding (its declared
	// input dim is the layer's); otherwise it reads the features only.
	// Hidden-layer remote experts always read it.
	Embedding bool `yaml:"embedding"`
}

// Risk is the `risk:` section (seed 004 §9).
type Risk struct {
	MaxPosition     int64       `yaml:"max_position"`     // units per symbol [10]
	TradeSize       int64       `yaml:"trade_size"`       // units per buy/sell [1]
	MaxLoss         float64     `yaml:"max_loss"`         // per symbol, price units × units [0: none]
	Interval        Duration    `yaml:"interval"`         // breach interval, event time [1s]
	BreachIntervals int         `yaml:"breach_intervals"` // in a row, to force high-latency experts to abstain [3]
	HighLatency     Duration    `yaml:"high_latency"`     // p99 above which an expert is high-latency [100µs]
	Deny            []DenyEntry `yaml:"deny"`             // (tenant, symbol) → halt
}

// DenyEntry halts one symbol of one tenant.
type DenyEntry struct {
	Tenant string `yaml:"tenant"`
	Symbol string `yaml:"symbol"`
}

// RouterEnabled reports whether runs route windows to experts [true].
func (r *Router) RouterEnabled() bool { return r.Enabled == nil || *r.Enabled }

// WithDefaults returns r with its defaults filled in, including the default
// layer when none is given: four experts (momentum, mean reversion, order
// flow and a seeded MLP head), capacity factor 2, p 0.65, at most 3 experts
// per token, undercovered tokens to their best expert with room.
func (r Router) WithDefaults() Router {
	if r.Version == 0 {
		r.Version = 1
	}
	if r.Seed == 0 {
		r.Seed = 7
	}
	if r.EmbedDim == 0 {
		r.EmbedDim = 16
	}
	if r.MaxBatch == 0 {
		r.MaxBatch = 256
	}
	if len(r.Layers) == 0 {
		r.Layers = []RouterLayer{{Experts: 4, CapacityFactor: 2, P: 0.65, MaxExpertsPerToken: 3, List: []ExpertSpec{
			{Name: "momentum", Kind: "momentum"}, {Name: "mean_reversion", Kind: "mean_reversion"},
			{Name: "order_flow", Kind: "order_flow"}, {Name: "mlp_head", Kind: "mlp"}}}}
	}
	layers := make([]RouterLayer, len(r.Layers))
	copy(layers, r.Layers)
	for i := range layers {
		l := &layers[i]
		if l.Undercovered == "" {
			l.Undercovered = "argmax"
		}
		if i < len(layers)-1 && l.OutDim == 0 {
			l.OutDim = r.EmbedDim
		}
		list := make([]ExpertSpec, len(l.List))
		copy(list, l.List)
		for j := range list {
			e := &list[j]
			if e.Kind == "mlp" && e.Hidden == 0 {
				e.Hidden = 32
			}
			if e.Kind == "remote" && e.Deadline == 0 {
				e.Deadline = Duration(500 * time.Microsecond)
			}
		}
		l.List = list
	}
	r.Layers = layers
	return r
}

var expertParams = map[string][]string{
	"momentum":       {"threshold_bps", "vol_floor"},
	"mean_reversion": {"z_entry", "max_spread_bps", "vol_floor"},
	"order_flow":     {"ofi_scale", "weight_ofi", "weight_tob"},
	"mlp":            {},
	"remote":         {},
}

// Validate names the first bad field (as router.layers[i].field).
func (r Router) Validate() error {
	r = r.WithDefaults()
	if r.EmbedDim < 1 || r.EmbedDim > 4096 {
		return fmt.Errorf("router.embed_dim %d: want 1 to 4096", r.EmbedDim)
	}
	if r.MaxBatch < 1 || r.MaxBatch > 65535 {
		return fmt.Errorf("router.max_batch %d: want 1 to 65535", r.MaxBatch)
	}
	if len(r.Layers) > 4 {
		return fmt.Errorf("router.layers: %d layers, at most 4", len(r.Layers))
	}
	for i, l := range r.Layers {
		f := func(field string) string { return fmt.Sprintf("router.layers[%d].%s", i, field) }
		last := i == len(r.Layers)-1
		switch {
		case l.Experts < 1 || l.Experts > 1024:
			return fmt.Errorf("%s %d: want 1 to 1024", f("experts"), l.Experts)
		case !(l.CapacityFactor > 0) || l.CapacityFactor > 1e6:
			return fmt.Errorf("%s %v: want a positive number", f("capacity_factor"), l.CapacityFactor)
		case !(l.P > 0 && l.P <= 1):
			return fmt.Errorf("%s %v: want a number in (0, 1]", f("p"), l.P)
		case l.MaxExpertsPerToken < 0 || l.MaxExpertsPerToken > 8:
			return fmt.Errorf("%s %d: want 0 (no cap) to 8", f("max_experts_per_token"), l.MaxExpertsPerToken)
		case l.MaxExpertsPerToken == 0 && l.Experts > 8:
			return fmt.Errorf("%s: %d experts: set a cap of at most 8 experts per token (traces hold 8)", f("max_experts_per_token"), l.Experts)
		case last && l.Experts > 64:
			return fmt.Errorf("%s %d: the final layer has at most 64 experts", f("experts"), l.Experts)
		case l.Undercovered != "abstain" && l.Undercovered != "argmax":
			return fmt.Errorf("%s %q: want abstain or argmax", f("undercovered"), l.Undercovered)
		case last && l.OutDim != 0:
			return fmt.Errorf("%s %d: the final layer emits actions; out_dim is for hidden layers", f("out_dim"), l.OutDim)
		case !last && (l.OutDim < 1 || l.OutDim > 4096):
			return fmt.Errorf("%s %d: want 1 to 4096", f("out_dim"), l.OutDim)
		case len(l.List) > l.Experts:
			return fmt.Errorf("%s: %d experts listed, the layer has %d", f("list"), len(l.List), l.Experts)
		}
		names := map[string]bool{}
		for j, e := range l.List {
			ef := func(field string) string { return fmt.Sprintf("router.layers[%d].list[%d].%s", i, j, field) }
			allowed, ok := expertParams[e.Kind]
			switch {
			case e.Name == "":
				return fmt.Errorf("%s: every expert needs a name", ef("name"))
			case names[e.Name]:
				return fmt.Errorf("%s %q: two experts of the layer share the name", ef("name"), e.Name)
			case !ok:
				return fmt.Errorf("%s %q: want momentum, mean_reversion, order_flow, mlp or remote", ef("kind"), e.Kind)
			case !last && (e.Kind == "momentum" || e.Kind == "mean_reversion" || e.Kind == "order_flow"):
				return fmt.Errorf("%s %q: an action head belongs in the final layer", ef("kind"), e.Kind)
			case e.Kind == "remote" && e.Socket == "":
				return fmt.Errorf("%s: a remote expert needs a socket", ef("socket"))
			case e.Budget < 0 || e.Deadline < 0:
				return fmt.Errorf("%s: budget and deadline must not be negative", ef("budget"))
			case e.Hidden < 0 || e.Hidden > 4096:
				return fmt.Errorf("%s %d: want 1 to 4096", ef("hidden"), e.Hidden)
			}
			names[e.Name] = true
			for k := range e.Params {
				found := false
				for _, a := range allowed {
					found = found || a == k
				}
				if !found {
					return fmt.Errorf("%s: %q is not a parameter of %s (want one of %v)", ef("params"), k, e.Kind, allowed)
				}
			}
		}
	}
	if len(r.Shadow) > 2 {
		return fmt.Errorf("router.shadow: %d experts, at most 2", len(r.Shadow))
	}
	names := map[string]bool{}
	for j, e := range r.Shadow {
		sf := func(field string) string { return fmt.Sprintf("router.shadow[%d].%s", j, field) }
		switch {
		case e.Name == "":
			return fmt.Errorf("%s: every shadow expert needs a name", sf("name"))
		case names[e.Name]:
			return fmt.Errorf("%s %q: two shadow experts share the name", sf("name"), e.Name)
		case e.Kind != "mlp" && e.Kind != "momentum" && e.Kind != "mean_reversion" && e.Kind != "order_flow":
			return fmt.Errorf("%s %q: a shadow expert is an action head: mlp, momentum, mean_reversion or order_flow", sf("kind"), e.Kind)
		case e.Hidden < 0 || e.Hidden > 4096:
			return fmt.Errorf("%s %d: want 1 to 4096", sf("hidden"), e.Hidden)
		}
		names[e.Name] = true
	}
	return nil
}

func (r Risk) validate() error {
	switch {
	case r.MaxPosition < 0:
		return fmt.Errorf("risk.max_position %d: must not be negative", r.MaxPosition)
	case r.TradeSize < 0:
		return fmt.Errorf("risk.trade_size %d: must not be negative", r.TradeSize)
	case r.MaxLoss < 0:
		return fmt.Errorf("risk.max_loss %v: must not be negative", r.MaxLoss)
	case r.Interval < 0 || r.HighLatency < 0:
		return fmt.Errorf("risk.interval and risk.high_latency must not be negative")
	case r.BreachIntervals < 0:
		return fmt.Errorf("risk.breach_intervals %d: must not be negative", r.BreachIntervals)
	}
	for i, d := range r.Deny {
		if d.Tenant == "" || d.Symbol == "" {
			return fmt.Errorf("risk.deny[%d]: needs a tenant and a symbol", i)
		}
	}
	return nil
}

// ParseRouter decodes a router config on its own (the body of a hot reload)
// strictly and validates it.
func ParseRouter(b []byte, name string) (*Router, error) {
	r := &Router{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(r); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("router config %s: %w", name, err)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("router config %s: %w", name, err)
	}
	return r, nil
}

// LoadRouter reads a router config file.
func LoadRouter(path string) (*Router, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read router config: %w", err)
	}
	return ParseRouter(b, path)
}
