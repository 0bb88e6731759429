package routermodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"thunderline/adapters/safetensors"
	"thunderline/engine/config"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/expert"
	"thunderline/hotpath/router"
	"thunderline/hotpath/window"
)

// Options bound what Build reads from outside: the model files named by
// router.weights, experts' and shadow experts' weights (also those of an
// admin swap or PUT /router).
type Options struct {
	// Files bounds every model file: MaxBytes (default
	// safetensors.DefaultMaxFileSize, 256 MiB) and Dir (the models
	// directory; "" = any readable path). Only regular files are read.
	Files safetensors.LoadOptions
}

// Validate names the bad field.
func (o Options) Validate() error {
	if o.Files.MaxBytes < 0 {
		return fmt.Errorf("routermodel: Files.MaxBytes: %d is negative", o.Files.MaxBytes)
	}
	return nil
}

// Build is BuildWith and the default Options.
func Build(rc config.Router) (*decide.Model, error) { return BuildWith(rc, Options{}) }

// BuildWith turns a router config into a decide.Model: gate matrices and
// the feature projection (from the weights file when it has them, seeded
// otherwise), and each layer's experts behind a Guard. Seeded values are
// deterministic: the same config gives the same model, bit for bit. Model
// files are read within o.
func BuildWith(rc config.Router, o Options) (*decide.Model, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	rc = rc.WithDefaults()
	if err := rc.Validate(); err != nil {
		return nil, err
	}
	w, err := loadWeights(rc.Weights, o.Files)
	if err != nil {
		return nil, err
	}
	m := &decide.Model{Version: rc.Version, EmbedDim: rc.EmbedDim}
	if m.Proj, err = w.matrix("embed.proj", rc.EmbedDim, window.NumFeatures, rc.Seed, 0); err != nil {
		return nil, err
	}
	in := rc.EmbedDim
	for l, lc := range rc.Layers {
		last := l == len(rc.Layers)-1
		pol, err := router.ParsePolicy(lc.Undercovered)
		if err != nil {
			return nil, fmt.Errorf("router.layers[%d].undercovered: %w", l, err)
		}
		gate, err := w.matrix(fmt.Sprintf("layers.%d.gate", l), in, lc.Experts, rc.Seed, uint64(l+1))
		if err != nil {
			return nil, err
		}
		rl, err := router.NewLayer(router.LayerConfig{Layer: l, Version: rc.Version, Experts: lc.Experts,
			CapacityFactor: lc.CapacityFactor, P: lc.P, MaxExpertsPerToken: lc.MaxExpertsPerToken, Undercovered: pol}, in, gate)
		if err != nil {
			return nil, fmt.Errorf("router.layers[%d]: %w", l, err)
		}
		lm := decide.LayerModel{Router: rl, OutDim: lc.OutDim}
		for e := 0; e < lc.Experts; e++ {
			spec := config.ExpertSpec{Name: fmt.Sprintf("L%d.mlp%d", l, e), Kind: "mlp", Hidden: 32}
			if e < len(lc.List) {
				spec = lc.List[e]
			}
			x, err := buildExpert(spec, l, e, in, lc.OutDim, last, rc.Seed, o.Files)
			if err != nil {
				return nil, fmt.Errorf("router.layers[%d] expert %q: %w", l, spec.Name, err)
			}
			lm.Experts = append(lm.Experts, expert.NewGuard(x, time.Duration(spec.Budget)))
			lm.IDs = append(lm.IDs, decide.ExpertID(l, spec.Name))
		}
		m.Layers = append(m.Layers, lm)
		if !last {
			in = lc.OutDim
		}
	}
	for j, spec := range rc.Shadow {
		if spec.Hidden == 0 {
			spec.Hidden = 32
		}
		x, err := buildExpert(spec, len(rc.Layers), j, rc.EmbedDim, 0, true, rc.Seed, o.Files)
		if err != nil {
			return nil, fmt.Errorf("router.shadow[%d] %q: %w", j, spec.Name, err)
		}
		m.Shadow = append(m.Shadow, decide.ShadowExpert{Name: spec.Name, ID: decide.ExpertID(-1, spec.Name),
			Guard: expert.NewGuard(x, time.Duration(spec.Budget))})
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func buildExpert(spec config.ExpertSpec, layer, index, in, out int, last bool, seed uint64, files safetensors.LoadOptions) (expert.Expert, error) {
	p := spec.Params
	switch spec.Kind {
	case "momentum":
		return expert.NewMomentum(spec.Name, expert.MomentumConfig{ThresholdBps: p["threshold_bps"], VolFloor: p["vol_floor"]})
	case "mean_reversion":
		return expert.NewMeanReversion(spec.Name, expert.MeanReversionConfig{ZEntry: p["z_entry"], MaxSpreadBps: p["max_spread_bps"], VolFloor: p["vol_floor"]})
	case "order_flow":
		return expert.NewOrderFlow(spec.Name, expert.OrderFlowConfig{OFIScale: p["ofi_scale"], WeightOFI: p["weight_ofi"], WeightTob: p["weight_tob"]})
	case "mlp":
		if spec.Weights != "" {
			return loadMLP(spec, in, out, last, files)
		}
		s := spec.Seed
		if s == 0 {
			s = seed*1_000_003 + uint64(layer)*1009 + uint64(index) + 1
		}
		if last {
			cfg := expert.MLPConfig{Name: spec.Name, In: in, Hidden: spec.Hidden, Out: expert.NumActions, Activation: expert.Tanh, Head: true}
			expert.SeedWeights(&cfg, s)
			return expert.NewMLP(cfg)
		}
		return expert.NewMLPSeeded(spec.Name, in, spec.Hidden, out, s)
	case "remote":
		return newRemoteExpert(spec, in, out)
	}
	return nil, fmt.Errorf("kind %q: unknown", spec.Kind)
}

// weights are the matrices of a router weights file (nil: none).
type weights map[string][]float32

// matrix returns name (rows×cols) from the file, or seeded values:
// normal(0, 1/sqrt(rows)) from a PCG seeded with (seed, stream).
func (w weights) matrix(name string, rows, cols int, seed, stream uint64) ([]float32, error) {
	if v, ok := w[name]; ok {
		if len(v) != rows*cols {
			return nil, fmt.Errorf("router weights: %s has %d values, want %d×%d", name, len(v), rows, cols)
		}
		return v, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed0000+stream))
	out := make([]float32, rows*cols)
	sd := 1 / math.Sqrt(float64(rows))
	for i := range out {
		out[i] = float32(rng.NormFloat64() * sd)
	}
	return out, nil
}

// RiskConfig converts the profile's risk section.
func RiskConfig(r config.Risk) decide.RiskConfig {
	return decide.RiskConfig{MaxPosition: r.MaxPosition, TradeSize: r.TradeSize, MaxLoss: r.MaxLoss,
		Interval: time.Duration(r.Interval), BreachIntervals: r.BreachIntervals, HighLatency: time.Duration(r.HighLatency)}
}
