package decide

import (
	"fmt"

	"thunderline/hotpath/expert"
	"thunderline/hotpath/router"
	"thunderline/hotpath/window"
)

// LayerModel is one routing layer with its experts.
type LayerModel struct {
	Router  *router.Layer
	Experts []*expert.Guard // index = the router's expert index
	IDs     [][16]byte      // stable expert ids, for lineage edges
	// OutDim is the dimension of the layer's output: its experts' hidden
	// vectors for a hidden layer, 0 for the final layer (action heads).
	OutDim int
}

// Model is one router version: the feature projection and the layers. It is
// immutable once published; a new version is a new Model (the double buffer:
// it is built beside the running one and swapped in whole).
type Model struct {
	Version  uint64
	EmbedDim int
	// Proj projects a window's features into the first layer's embedding:
	// EmbedDim×window.NumFeatures, row-major (see Embed).
	Proj   []float32
	Layers []LayerModel
	// Shadow are candidate experts run beside the router on the
	// first-layer embedding, traced, never voting (at most MaxShadow).
	Shadow []ShadowExpert
}

// Validate checks that the layers fit together and within the trace limits.
func (m *Model) Validate() error {
	if len(m.Layers) < 1 || len(m.Layers) > MaxLayers {
		return fmt.Errorf("router: layers: %d, want 1 to %d", len(m.Layers), MaxLayers)
	}
	if m.EmbedDim < 1 || len(m.Proj) != m.EmbedDim*window.NumFeatures {
		return fmt.Errorf("router: embed_dim %d: projection has %d values, want %d", m.EmbedDim, len(m.Proj), m.EmbedDim*window.NumFeatures)
	}
	in := m.EmbedDim
	for l := range m.Layers {
		lm := &m.Layers[l]
		last := l == len(m.Layers)-1
		field := func(f string) string { return fmt.Sprintf("router: layers[%d].%s", l, f) }
		if lm.Router == nil {
			return fmt.Errorf("%s: no router layer", field("experts"))
		}
		cfg := lm.Router.Config()
		if lm.Router.Dim() != in {
			return fmt.Errorf("%s: gate matrix has dim %d, the layer input has %d", field("gate"), lm.Router.Dim(), in)
		}
		if len(lm.Experts) != cfg.Experts || len(lm.IDs) != cfg.Experts {
			return fmt.Errorf("%s: %d experts given, the layer routes over %d", field("experts"), len(lm.Experts), cfg.Experts)
		}
		kept := cfg.MaxExpertsPerToken
		if kept == 0 {
			kept = cfg.Experts
		}
		if kept > MaxKept {
			return fmt.Errorf("%s: a token may keep %d experts, traces hold at most %d: set max_experts_per_token", field("max_experts_per_token"), kept, MaxKept)
		}
		if last && cfg.Experts > MaxGates {
			return fmt.Errorf("%s: %d experts in the final layer, traces record at most %d gates", field("experts"), cfg.Experts, MaxGates)
		}
		if last && lm.OutDim != 0 || !last && lm.OutDim < 1 {
			return fmt.Errorf("%s: out_dim %d: the final layer emits actions (0), a hidden layer a vector (>0)", field("out_dim"), lm.OutDim)
		}
		for e, g := range lm.Experts {
			if g == nil {
				return fmt.Errorf("%s: expert %d is missing", field("experts"), e)
			}
			if g.OutDim() != lm.OutDim {
				return fmt.Errorf("%s: expert %q outputs %d values, the layer needs %d (0 = an action head)", field("experts"), g.Name(), g.OutDim(), lm.OutDim)
			}
			if d := g.InDim(); d != 0 && d != in {
				return fmt.Errorf("%s: expert %q reads a %d-dim embedding, the layer input has %d", field("experts"), g.Name(), d, in)
			}
		}
		if !last {
			in = lm.OutDim
		}
	}
	return nil
}

// maxDims returns the largest layer input or output dimension and expert
// count, for sizing the stage's buffers.
func (m *Model) maxDims() (dim, experts int) {
	dim = m.EmbedDim
	for _, l := range m.Layers {
		dim = max(dim, l.OutDim, l.Router.Dim())
		experts = max(experts, l.Router.Experts())
	}
	return dim, experts
}

// softsign maps a feature to (-1, 1) without a transcendental function (so
// it is bit-identical on every architecture): v / (1 + |v|).
func softsign(v float64) float32 {
	a := v
	if a < 0 {
		a = -a
	}
	return float32(v / (1 + a))
}

// Embed projects one window's features into dst (len EmbedDim):
// dst[j] = Σ_f Proj[j·F+f] · softsign(features[f]), summed in increasing f,
// each product rounded to float32 first.
func (m *Model) Embed(features *[window.NumFeatures]float64, dst []float32) {
	var x [window.NumFeatures]float32
	for f := range x {
		x[f] = softsign(features[f])
	}
	for j := 0; j < m.EmbedDim; j++ {
		row := m.Proj[j*window.NumFeatures : (j+1)*window.NumFeatures]
		var s float32
		for f, w := range row {
			s += float32(w * x[f])
		}
		dst[j] = s
	}
}
