package router

import (
	"fmt"
	"math"
)

// MaxDim is the largest embedding dimension a layer accepts.
const MaxDim = 1 << 16

// Layer is one routing layer: a validated config and its gate matrix. It is
// immutable after NewLayer, so one Layer may route on many goroutines at
// once (each with its own Assignment). A new config version is a new Layer,
// swapped in by the owner.
type Layer struct {
	cfg LayerConfig
	dim int
	w   []float32 // D×E as given (row-major), kept for Gates
	wt  []float32 // E×D: each expert's weights contiguous, for the kernel
}

// NewLayer validates cfg and copies the gate matrix wg, float32 row-major
// dim×cfg.Experts (len(wg) == dim·Experts). Every weight must be finite: a
// NaN or Inf gate weight is a broken model artifact and is rejected here,
// not discovered per batch.
func NewLayer(cfg LayerConfig, dim int, wg []float32) (*Layer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if dim < 1 || dim > MaxDim {
		return nil, &ConfigError{Field: "dim", Reason: fmt.Sprintf("must be in [1, %d], got %d", MaxDim, dim)}
	}
	E := cfg.Experts
	if len(wg) != dim*E {
		return nil, &ConfigError{Field: "gate_weights", Reason: fmt.Sprintf("want dim×experts = %d×%d = %d values, got %d", dim, E, dim*E, len(wg))}
	}
	for j, v := range wg {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, &ConfigError{Field: "gate_weights", Reason: fmt.Sprintf("value %d (dim %d, expert %d) is %v", j, j/E, j%E, v)}
		}
	}
	l := &Layer{cfg: cfg, dim: dim, w: make([]float32, len(wg), len(wg)+simdPad), wt: make([]float32, len(wg))}
	copy(l.w, wg)
	for d := 0; d < dim; d++ {
		for e := 0; e < E; e++ {
			l.wt[e*dim+d] = wg[d*E+e]
		}
	}
	return l, nil
}

// Config returns the layer's configuration.
func (l *Layer) Config() LayerConfig { return l.cfg }

// Dim returns the embedding dimension D.
func (l *Layer) Dim() int { return l.dim }

// Experts returns the number of experts E.
func (l *Layer) Experts() int { return l.cfg.Experts }

// GateWeights returns a copy of the D×E gate matrix (allocates; not for
// the hot path).
func (l *Layer) GateWeights() []float32 {
	return append([]float32(nil), l.w...)
}
