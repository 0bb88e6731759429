package expert

import (
	"fmt"
	"math"

	"thunderline/hotpath/enum"
)

// Activation is the MLP's hidden-layer nonlinearity.
type Activation uint8

const (
	ReLU Activation = 1 // max(x, 0)
	Tanh Activation = 2 // tanh(x), computed by detTanh in float64 and rounded to float32
)

var activationNames = enum.Names[Activation]{ReLU: "relu", Tanh: "tanh"}

// ParseActivation maps "relu" or "tanh" to an Activation.
func ParseActivation(s string) (Activation, error) { return activationNames.Parse("activation", s) }

func (a Activation) String() string { return activationNames.Or(a, "invalid") }

// maxMLPDim bounds each MLP dimension, so In*Hidden and Hidden*Out cannot
// overflow and a bad weight file cannot ask for absurd scratch buffers.
const maxMLPDim = 1 << 16

// MLPConfig describes a two-layer perceptron. Weights are row-major float32:
//
//	W1[i*Hidden+j] weighs input i into hidden unit j   (In×Hidden)
//	B1[j]                                              (Hidden)
//	W2[j*Out+k]  weighs hidden unit j into output k    (Hidden×Out)
//	B2[k]                                              (Out)
//
// This is the layout of y = act(x·W1 + b1)·W2 + b2 with x a row vector, the
// same as numpy's x @ W1 for W1 of shape (In, Hidden).
type MLPConfig struct {
	Name            string
	In, Hidden, Out int
	Activation      Activation // default ReLU
	Head            bool       // an action head: Out must be NumActions
	W1, B1, W2, B2  []float32
}

// Validate reports the first invalid field.
func (c *MLPConfig) Validate() error {
	for _, d := range []struct {
		name string
		v    int
	}{{"in", c.In}, {"hidden", c.Hidden}, {"out", c.Out}} {
		if d.v < 1 || d.v > maxMLPDim {
			return fmt.Errorf("%s: %d: want 1..%d", d.name, d.v, maxMLPDim)
		}
	}
	if c.Activation != 0 && c.Activation != ReLU && c.Activation != Tanh {
		return fmt.Errorf("activation: %d: want relu or tanh", c.Activation)
	}
	if c.Head && c.Out != NumActions {
		return fmt.Errorf("out: %d: an action head has %d outputs (buy, sell, hold)", c.Out, NumActions)
	}
	for _, w := range []struct {
		name string
		v    []float32
		n    int
	}{{"w1", c.W1, c.In * c.Hidden}, {"b1", c.B1, c.Hidden}, {"w2", c.W2, c.Hidden * c.Out}, {"b2", c.B2, c.Out}} {
		if len(w.v) != w.n {
			return fmt.Errorf("%s: %d values, want %d", w.name, len(w.v), w.n)
		}
		for i, x := range w.v {
			if !finite32(x) {
				return fmt.Errorf("%s[%d]: %v: want a finite value", w.name, i, x)
			}
		}
	}
	return nil
}

// MLP is a dense two-layer perceptron expert:
//
//	h = act(x·W1 + b1)     x = Input.Embedding (len In)
//	y = h·W2 + b2          len Out, no output nonlinearity
//
// As a hidden-layer expert (Head false) it writes y to Output.Hidden, zero
// scores and confidence 1. As an action head (Head true, Out = 3) the scores
// are softmax(y) over buy/sell/hold and the confidence is the largest
// probability. An embedding of the wrong length makes it abstain.
//
// Arithmetic is float32 with one fixed order of operations: each sum starts
// from the bias and adds the products in increasing input index, every
// product rounded to float32 before the addition (no FMA), so outputs are
// bit-identical across architectures. The softmax uses detExp in float64.
//
// The kernel is hand-written: on the benchmark shapes it is 1.9-2.4× faster
// than the same algebra through gorgonia.org/tensor (with every output
// preallocated and reused), which also allocates 17 times per call; see
// mlp_bench_test.go for the numbers.
//
// Eval uses per-instance scratch: one goroutine at a time. Clone gives an
// instance sharing the (read-only) weights with its own scratch.
type MLP struct {
	cfg MLPConfig
	h   []float32 // hidden scratch
	y   []float32 // output scratch for heads
}

// NewMLP validates cfg and returns an MLP that owns a copy of the weights.
func NewMLP(cfg MLPConfig) (*MLP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mlp expert %q: %w", cfg.Name, err)
	}
	if cfg.Activation == 0 {
		cfg.Activation = ReLU
	}
	cfg.W1 = append([]float32(nil), cfg.W1...)
	cfg.B1 = append([]float32(nil), cfg.B1...)
	cfg.W2 = append([]float32(nil), cfg.W2...)
	cfg.B2 = append([]float32(nil), cfg.B2...)
	return &MLP{cfg: cfg, h: make([]float32, cfg.Hidden), y: make([]float32, cfg.Out)}, nil
}

// NewMLPSeeded returns a hidden-layer MLP (tanh, In→Hidden→Out) with small
// deterministic random weights from seed; see SeedWeights.
func NewMLPSeeded(name string, in, hidden, out int, seed uint64) (*MLP, error) {
	cfg := MLPConfig{Name: name, In: in, Hidden: hidden, Out: out, Activation: Tanh}
	if in < 1 || hidden < 1 || out < 1 || in > maxMLPDim || hidden > maxMLPDim || out > maxMLPDim {
		return nil, fmt.Errorf("mlp expert %q: dims %d×%d×%d: want 1..%d each", name, in, hidden, out, maxMLPDim)
	}
	SeedWeights(&cfg, seed)
	return NewMLP(cfg)
}

// SeedWeights fills cfg's weights (for its In, Hidden, Out) with small
// deterministic random values, for experts that have no trained weights:
//
//	W1 ~ U(-1/√In, 1/√In), W2 ~ U(-1/√Hidden, 1/√Hidden), B1 = B2 = 0
//
// (LeCun-uniform, so a tanh layer neither saturates nor vanishes). The
// uniforms come from one SplitMix64 stream started at seed, W1 in row-major
// order and then W2: u = (z >> 11)·2⁻⁵³ in [0, 1), w = float32((2u-1)·a).
// The same seed gives the same weights on every machine.
func SeedWeights(cfg *MLPConfig, seed uint64) {
	sm := splitMix64(seed)
	fill := func(w []float32, fanIn int) {
		a := 1 / math.Sqrt(float64(fanIn))
		for i := range w {
			u := float64(sm.next()>>11) * 0x1p-53
			w[i] = float32((2*u - 1) * a)
		}
	}
	cfg.W1 = make([]float32, cfg.In*cfg.Hidden)
	cfg.B1 = make([]float32, cfg.Hidden)
	cfg.W2 = make([]float32, cfg.Hidden*cfg.Out)
	cfg.B2 = make([]float32, cfg.Out)
	fill(cfg.W1, cfg.In)
	fill(cfg.W2, cfg.Hidden)
}

type splitMix64 uint64

func (s *splitMix64) next() uint64 {
	*s += 0x9E3779B97F4A7C15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

func (m *MLP) Name() string { return m.cfg.Name }
func (m *MLP) Kind() string { return KindMLP }
func (m *MLP) InDim() int   { return m.cfg.In }

// OutDim is Out for a hidden-layer MLP and 0 for an action head.
func (m *MLP) OutDim() int {
	if m.cfg.Head {
		return 0
	}
	return m.cfg.Out
}

// Config is the MLP's configuration. Its weight slices are the MLP's own:
// do not modify them.
func (m *MLP) Config() MLPConfig { return m.cfg }

// Clone returns an MLP sharing m's weights with its own scratch buffers, for
// evaluating the same expert on another goroutine.
func (m *MLP) Clone() *MLP {
	return &MLP{cfg: m.cfg, h: make([]float32, m.cfg.Hidden), y: make([]float32, m.cfg.Out)}
}

func (m *MLP) Eval(in *Input, out *Output) {
	if len(in.Embedding) != m.cfg.In {
		out.SetAbstain()
		return
	}
	if !m.cfg.Head {
		if len(out.Hidden) < m.cfg.Out {
			out.SetAbstain()
			return
		}
		m.forward(in.Embedding, out.Hidden[:m.cfg.Out])
		out.Scores = [NumActions]float32{}
		out.Confidence = 1
		out.Abstain = false
		return
	}
	m.forward(in.Embedding, m.y)
	softmax3(out, m.y)
}

// forward computes y = act(x·W1 + b1)·W2 + b2 into y (len Out).
func (m *MLP) forward(x, y []float32) {
	affine(m.h, x, m.cfg.W1, m.cfg.B1)
	switch m.cfg.Activation {
	case Tanh:
		for j, v := range m.h {
			m.h[j] = float32(detTanh(float64(v)))
		}
	default:
		for j, v := range m.h {
			if v < 0 { // NaN stays NaN, so a bad input still shows downstream
				m.h[j] = 0
			}
		}
	}
	affine(y, m.h, m.cfg.W2, m.cfg.B2)
}

// affine sets dst[j] = b[j] + Σ_i x[i]·w[i·len(dst)+j], adding the products
// in increasing i, each rounded to float32 first (no FMA). It walks four rows
// of w at a time, so each dst[j] is loaded and stored once per four inputs
// instead of once per input, and w is read sequentially within each row;
// the additions into dst[j] stay in increasing i, so the result is the same
// bits as the plain loop.
func affine(dst, x, w, b []float32) {
	n := len(dst)
	copy(dst, b[:n])
	i := 0
	for ; i+4 <= len(x); i += 4 {
		x0, x1, x2, x3 := x[i], x[i+1], x[i+2], x[i+3]
		r0 := w[i*n : i*n+n]
		r1 := w[(i+1)*n : (i+1)*n+n]
		r2 := w[(i+2)*n : (i+2)*n+n]
		r3 := w[(i+3)*n : (i+3)*n+n]
		r0, r1, r2, r3 = r0[:len(dst)], r1[:len(dst)], r2[:len(dst)], r3[:len(dst)] // drops bounds checks below
		for j := range dst {
			d := dst[j] + float32(x0*r0[j])
			d += float32(x1 * r1[j])
			d += float32(x2 * r2[j])
			dst[j] = d + float32(x3*r3[j])
		}
	}
	for ; i < len(x); i++ {
		xi := x[i]
		row := w[i*n : i*n+n]
		row = row[:len(dst)]
		for j := range dst {
			dst[j] += float32(xi * row[j])
		}
	}
}

// softmax3 writes softmax(y) (len NumActions) to out.Scores and the largest
// probability to out.Confidence. It subtracts the max logit first, sums the
// exponentials in action order in float64 and rounds each probability once.
// A non-finite logit makes the expert abstain.
func softmax3(out *Output, y []float32) {
	m := y[0]
	for _, v := range y[:NumActions] {
		if !finite32(v) {
			out.SetAbstain()
			return
		}
		m = max(m, v)
	}
	var e [NumActions]float64
	sum := 0.0
	for k := range e {
		e[k] = detExp(float64(y[k]) - float64(m))
		sum += e[k]
	}
	var best float32
	for k := range e {
		p := float32(e[k] / sum)
		out.Scores[k] = p
		best = max(best, p)
	}
	out.Confidence = best
	out.Abstain = false
}
