package expert

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// gorgoniaMLP is the MLP algebra written with gorgonia.org/tensor, kept as
// the reference the hand kernel is checked against and as the baseline of
// BenchmarkMLPGorgonia. It lives in a test file: hotpath imports nothing
// outside the standard library, and the hand kernel won the benchmark.
//
// Every tensor is preallocated and every op reuses its output
// (tensor.WithReuse, tensor.UseUnsafe), which is as allocation-free as the
// library allows; it still allocates per call (function options, engine
// dispatch, error wrapping).
type gorgoniaMLP struct {
	cfg                  MLPConfig
	x, w1, b1, h, w2, b2 *tensor.Dense
	y                    *tensor.Dense
	relu                 func(float32) float32
	xs, ys               []float32
}

func newGorgoniaMLP(cfg MLPConfig) *gorgoniaMLP {
	clone := func(v []float32) []float32 { return append([]float32(nil), v...) }
	g := &gorgoniaMLP{
		cfg:  cfg,
		xs:   make([]float32, cfg.In),
		ys:   make([]float32, cfg.Out),
		relu: func(v float32) float32 { return max(v, 0) },
	}
	g.x = tensor.New(tensor.WithShape(1, cfg.In), tensor.WithBacking(g.xs))
	g.w1 = tensor.New(tensor.WithShape(cfg.In, cfg.Hidden), tensor.WithBacking(clone(cfg.W1)))
	g.b1 = tensor.New(tensor.WithShape(1, cfg.Hidden), tensor.WithBacking(clone(cfg.B1)))
	g.h = tensor.New(tensor.WithShape(1, cfg.Hidden), tensor.WithBacking(make([]float32, cfg.Hidden)))
	g.w2 = tensor.New(tensor.WithShape(cfg.Hidden, cfg.Out), tensor.WithBacking(clone(cfg.W2)))
	g.b2 = tensor.New(tensor.WithShape(1, cfg.Out), tensor.WithBacking(clone(cfg.B2)))
	g.y = tensor.New(tensor.WithShape(1, cfg.Out), tensor.WithBacking(g.ys))
	return g
}

// forward computes act(x·W1 + b1)·W2 + b2 and returns the output (the
// tensor's own backing slice).
func (g *gorgoniaMLP) forward(x []float32) ([]float32, error) {
	copy(g.xs, x)
	if _, err := g.x.MatMul(g.w1, tensor.WithReuse(g.h)); err != nil {
		return nil, err
	}
	if _, err := g.h.Add(g.b1, tensor.UseUnsafe()); err != nil {
		return nil, err
	}
	var err error
	if g.cfg.Activation == Tanh {
		_, err = tensor.Tanh(g.h, tensor.UseUnsafe())
	} else {
		_, err = g.h.Apply(g.relu, tensor.UseUnsafe())
	}
	if err != nil {
		return nil, err
	}
	if _, err := g.h.MatMul(g.w2, tensor.WithReuse(g.y)); err != nil {
		return nil, err
	}
	if _, err := g.y.Add(g.b2, tensor.UseUnsafe()); err != nil {
		return nil, err
	}
	return g.ys, nil
}

// eval is Expert.Eval on top of forward, for the benchmark.
func (g *gorgoniaMLP) eval(in *Input, out *Output) {
	y, err := g.forward(in.Embedding)
	if err != nil {
		out.SetAbstain()
		return
	}
	if g.cfg.Head {
		softmax3(out, y)
		return
	}
	copy(out.Hidden, y)
	out.Scores = [NumActions]float32{}
	out.Confidence = 1
	out.Abstain = false
}

// mlpShapes are the shapes of the cross-check and the benchmarks: a
// feature-sized hidden layer, a wider one, and a head.
var mlpShapes = []struct {
	in, hidden, out int
	head            bool
	act             Activation
}{
	{13, 32, 16, false, Tanh},
	{32, 64, 32, false, ReLU},
	{64, 128, 3, true, ReLU},
}

func shapeName(in, hidden, out int, head bool) string {
	s := fmt.Sprintf("%dx%dx%d", in, hidden, out)
	if head {
		s += "head"
	}
	return s
}

func seededConfig(in, hidden, out int, head bool, act Activation, seed uint64) MLPConfig {
	cfg := MLPConfig{Name: "x", In: in, Hidden: hidden, Out: out, Head: head, Activation: act}
	SeedWeights(&cfg, seed)
	for j := range cfg.B1 { // non-zero biases, so the bias path is exercised
		cfg.B1[j] = float32(j%7)/10 - 0.3
	}
	for k := range cfg.B2 {
		cfg.B2[k] = float32(k%3)/4 - 0.25
	}
	return cfg
}

func testEmbedding(n int, seed uint64) []float32 {
	sm := splitMix64(seed)
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(float64(sm.next()>>11)*0x1p-53*4 - 2)
	}
	return x
}

// TestMLPMatchesGorgonia checks the hand kernel against gorgonia on every
// benchmark shape and many inputs. The two sum in different orders (gonum's
// BLAS vs the bias-first axpy), so they agree to float32 rounding, not bit
// for bit.
func TestMLPMatchesGorgonia(t *testing.T) {
	for si, s := range mlpShapes {
		cfg := seededConfig(s.in, s.hidden, s.out, false, s.act, uint64(si)+7)
		hand, err := NewMLP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ref := newGorgoniaMLP(cfg)
		got := make([]float32, s.out)
		for trial := range 50 {
			x := testEmbedding(s.in, uint64(trial))
			hand.forward(x, got)
			want, err := ref.forward(x)
			if err != nil {
				t.Fatal(err)
			}
			for k := range got {
				if d := math.Abs(float64(got[k] - want[k])); d > 1e-5*(1+math.Abs(float64(want[k]))) {
					t.Fatalf("%s trial %d: y[%d] = %v, gorgonia %v", shapeName(s.in, s.hidden, s.out, false), trial, k, got[k], want[k])
				}
			}
		}
	}
}
