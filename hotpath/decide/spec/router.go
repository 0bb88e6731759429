package spec

import (
	"fmt"
	"maps"
	"slices"
	"time"
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

// MaxRouterVersion is the largest router version: every version is exact
// as a JSON number (a float64), and a reload must raise it, so the
// largest is refused for the room it would leave (none).
const MaxRouterVersion = 1<<53 - 2

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

// expertParams are the params each expert kind takes.
var expertParams = map[string][]string{
	"momentum":       {"threshold_bps", "vol_floor"},
	"mean_reversion": {"z_entry", "max_spread_bps", "vol_floor"},
	"order_flow":     {"ofi_scale", "weight_ofi", "weight_tob"},
	"mlp":            {},
	"remote":         {},
}

// Validate checks r with its defaults filled in. The error is a
// *FieldError naming the first bad field by its path, as
// "router.layers[1].p".
func (r Router) Validate() error {
	r = r.WithDefaults()
	switch {
	case r.Version > MaxRouterVersion:
		return Fieldf("router.version", "%d: want 1 to %d (2^53-1, exact in JSON; the maximum leaves room for later versions)", r.Version, uint64(MaxRouterVersion))
	case r.EmbedDim < 1 || r.EmbedDim > 4096:
		return Fieldf("router.embed_dim", "%d: want 1 to 4096", r.EmbedDim)
	case r.MaxBatch < 1 || r.MaxBatch > 65535:
		return Fieldf("router.max_batch", "%d: want 1 to 65535", r.MaxBatch)
	case len(r.Layers) > 4:
		return Fieldf("router.layers", "%d layers, at most 4", len(r.Layers))
	}
	for i, l := range r.Layers {
		if err := l.validate(fmt.Sprintf("router.layers[%d]", i), i == len(r.Layers)-1); err != nil {
			return err
		}
	}
	if len(r.Shadow) > 2 {
		return Fieldf("router.shadow", "%d experts, at most 2", len(r.Shadow))
	}
	names := map[string]bool{}
	for j, e := range r.Shadow {
		if err := e.validateShadow(fmt.Sprintf("router.shadow[%d]", j), names); err != nil {
			return err
		}
	}
	return nil
}

// validate checks layer l at path; last is the final (action) layer.
func (l RouterLayer) validate(path string, last bool) error {
	f := func(field string) string { return path + "." + field }
	switch {
	case l.Experts < 1 || l.Experts > 1024:
		return Fieldf(f("experts"), "%d: want 1 to 1024", l.Experts)
	case !(l.CapacityFactor > 0) || l.CapacityFactor > 1e6:
		return Fieldf(f("capacity_factor"), "%v: want a positive number", l.CapacityFactor)
	case !(l.P > 0 && l.P <= 1):
		return Fieldf(f("p"), "%v: want a number in (0, 1]", l.P)
	case l.MaxExpertsPerToken < 0 || l.MaxExpertsPerToken > 8:
		return Fieldf(f("max_experts_per_token"), "%d: want 0 (no cap) to 8", l.MaxExpertsPerToken)
	case l.MaxExpertsPerToken == 0 && l.Experts > 8:
		return Fieldf(f("max_experts_per_token"), "%d experts: set a cap of at most 8 experts per token (traces hold 8)", l.Experts)
	case last && l.Experts > 64:
		return Fieldf(f("experts"), "%d: the final layer has at most 64 experts", l.Experts)
	case l.Undercovered != "abstain" && l.Undercovered != "argmax":
		return Fieldf(f("undercovered"), "%q: want abstain or argmax", l.Undercovered)
	case last && l.OutDim != 0:
		return Fieldf(f("out_dim"), "%d: the final layer emits actions; out_dim is for hidden layers", l.OutDim)
	case !last && (l.OutDim < 1 || l.OutDim > 4096):
		return Fieldf(f("out_dim"), "%d: want 1 to 4096", l.OutDim)
	case len(l.List) > l.Experts:
		return Fieldf(f("list"), "%d experts listed, the layer has %d", len(l.List), l.Experts)
	}
	names := map[string]bool{}
	for j, e := range l.List {
		if err := e.validate(fmt.Sprintf("%s.list[%d]", path, j), last, names); err != nil {
			return err
		}
	}
	return nil
}

// validate checks a layer's expert e at path; names are the names taken
// by the layer's experts before it.
func (e ExpertSpec) validate(path string, last bool, names map[string]bool) error {
	f := func(field string) string { return path + "." + field }
	allowed, ok := expertParams[e.Kind]
	switch {
	case e.Name == "":
		return Fieldf(f("name"), "every expert needs a name")
	case names[e.Name]:
		return Fieldf(f("name"), "%q: two experts of the layer share the name", e.Name)
	case !ok:
		return Fieldf(f("kind"), "%q: want momentum, mean_reversion, order_flow, mlp or remote", e.Kind)
	case !last && (e.Kind == "momentum" || e.Kind == "mean_reversion" || e.Kind == "order_flow"):
		return Fieldf(f("kind"), "%q: an action head belongs in the final layer", e.Kind)
	case e.Kind == "remote" && e.Socket == "":
		return Fieldf(f("socket"), "a remote expert needs a socket")
	case e.Budget < 0:
		return Fieldf(f("budget"), "%v: must not be negative", time.Duration(e.Budget))
	case e.Deadline < 0:
		return Fieldf(f("deadline"), "%v: must not be negative", time.Duration(e.Deadline))
	case e.Hidden < 0 || e.Hidden > 4096:
		return Fieldf(f("hidden"), "%d: want 1 to 4096", e.Hidden)
	}
	names[e.Name] = true
	for _, k := range slices.Sorted(maps.Keys(e.Params)) {
		if !slices.Contains(allowed, k) {
			return Fieldf(f("params"), "%q is not a parameter of %s (want one of %v)", k, e.Kind, allowed)
		}
	}
	return nil
}

// validateShadow checks shadow expert e at path; names are the names taken
// by the shadow experts before it.
func (e ExpertSpec) validateShadow(path string, names map[string]bool) error {
	f := func(field string) string { return path + "." + field }
	switch {
	case e.Name == "":
		return Fieldf(f("name"), "every shadow expert needs a name")
	case names[e.Name]:
		return Fieldf(f("name"), "%q: two shadow experts share the name", e.Name)
	case e.Kind != "mlp" && e.Kind != "momentum" && e.Kind != "mean_reversion" && e.Kind != "order_flow":
		return Fieldf(f("kind"), "%q: a shadow expert is an action head: mlp, momentum, mean_reversion or order_flow", e.Kind)
	case e.Hidden < 0 || e.Hidden > 4096:
		return Fieldf(f("hidden"), "%d: want 1 to 4096", e.Hidden)
	}
	names[e.Name] = true
	return nil
}

// ParseRouter decodes a router config on its own (a file, or the body of
// a hot reload) strictly and validates it; name (a path, or "request
// body") is the FieldError's File.
func ParseRouter(b []byte, name string) (*Router, error) {
	r := &Router{}
	err := Decode(b, r, "router")
	if err == nil {
		err = r.Validate()
	}
	if err != nil {
		return nil, Locate(err, "router config", name)
	}
	return r, nil
}

// LoadRouter reads a router config file.
func LoadRouter(path string) (*Router, error) { return Load(path, "router config", ParseRouter) }
