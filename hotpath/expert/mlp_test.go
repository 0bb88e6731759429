package expert

import (
	"math"
	"strings"
	"testing"
)

// handMLP is the 2→2→3 network of the hand-computed cases:
//
//	W1 = [[1, -1], [0.5, 2]]  b1 = [0, 0.5]
//	W2 = [[1, 0, 0], [0, 1, -1]]  b2 = [0, 0, 0.25]
func handMLP(t *testing.T, act Activation, head bool) *MLP {
	t.Helper()
	m, err := NewMLP(MLPConfig{
		Name: "hand", In: 2, Hidden: 2, Out: 3, Activation: act, Head: head,
		W1: []float32{1, -1, 0.5, 2}, B1: []float32{0, 0.5},
		W2: []float32{1, 0, 0, 0, 1, -1}, B2: []float32{0, 0, 0.25},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMLPHidden(t *testing.T) {
	cases := []struct {
		name string
		act  Activation
		x    []float32
		want []float32
	}{
		// h = relu([2·1 + 1·0.5, 2·-1 + 1·2 + 0.5]) = [2.5, 0.5]; y = [2.5, 0.5, -0.5+0.25].
		{"relu positive", ReLU, []float32{2, 1}, []float32{2.5, 0.5, -0.25}},
		// h = relu([-2, 2.5]) = [0, 2.5]; y = [0, 2.5, -2.25].
		{"relu clips", ReLU, []float32{-2, 0}, []float32{0, 2.5, -2.25}},
		// h = tanh([0.5, 0]) = [tanh 0.5, 0]; y = [tanh 0.5, 0, 0.25].
		{"tanh", Tanh, []float32{0.5, 0}, []float32{float32(tanhHalf), 0, 0.25}},
	}
	for _, c := range cases {
		m := handMLP(t, c.act, false)
		if m.OutDim() != 3 || m.InDim() != 2 || m.Kind() != KindMLP {
			t.Fatalf("dims %d→%d kind %s", m.InDim(), m.OutDim(), m.Kind())
		}
		out := Output{Hidden: make([]float32, 3)}
		m.Eval(&Input{Embedding: c.x}, &out)
		if out.Abstain || out.Confidence != 1 || out.Scores != [3]float32{} {
			t.Fatalf("%s: out %+v", c.name, out)
		}
		for k := range c.want {
			if math.Abs(float64(out.Hidden[k]-c.want[k])) > 1e-7 {
				t.Errorf("%s: hidden[%d] = %v, want %v", c.name, k, out.Hidden[k], c.want[k])
			}
		}
	}
}

func TestMLPHead(t *testing.T) {
	m := handMLP(t, ReLU, true)
	if m.OutDim() != 0 {
		t.Fatalf("head OutDim = %d", m.OutDim())
	}
	cases := []struct {
		name string
		x    []float32
		want want
	}{
		// y = [2.5, 0.5, -0.25]: softmax = [1, e^-2, e^-2.75] / (1 + e^-2 + e^-2.75).
		{"buy", []float32{2, 1}, want{scores: [3]float64{0.8338453529847986, 0.11284869702173102, 0.05330594999347029}, conf: 0.8338453529847986}},
		// y = [0, 2.5, -2.25].
		{"sell", []float32{-2, 0}, want{scores: [3]float64{0.07525647490219735, 0.9168115509998518, 0.007931974097951006}, conf: 0.9168115509998518}},
		{"wrong dim", []float32{1}, want{abstain: true}},
		{"nan input", []float32{float32(math.NaN()), 1}, want{abstain: true}},
	}
	for _, c := range cases {
		var out Output
		m.Eval(&Input{Embedding: c.x}, &out)
		checkOut(t, c.name, &out, c.want)
	}
}

func TestMLPValidate(t *testing.T) {
	ok := func() MLPConfig {
		return MLPConfig{Name: "v", In: 2, Hidden: 1, Out: 3, W1: make([]float32, 2), B1: make([]float32, 1),
			W2: make([]float32, 3), B2: make([]float32, 3)}
	}
	cases := []struct {
		name  string
		edit  func(*MLPConfig)
		field string
	}{
		{"in", func(c *MLPConfig) { c.In = 0 }, "in: 0"},
		{"huge", func(c *MLPConfig) { c.Hidden = 1 << 20 }, "hidden"},
		{"w1 len", func(c *MLPConfig) { c.W1 = c.W1[:1] }, "w1: 1 values, want 2"},
		{"b2 len", func(c *MLPConfig) { c.B2 = nil }, "b2"},
		{"nan", func(c *MLPConfig) { c.W2[2] = float32(math.NaN()) }, "w2[2]"},
		{"head out", func(c *MLPConfig) { c.Out = 2; c.W2 = c.W2[:2]; c.B2 = c.B2[:2]; c.Head = true }, "out: 2"},
		{"activation", func(c *MLPConfig) { c.Activation = 9 }, "activation"},
	}
	for _, c := range cases {
		cfg := ok()
		c.edit(&cfg)
		_, err := NewMLP(cfg)
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, err, c.field)
		}
	}
	if _, err := NewMLP(ok()); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if a, err := ParseActivation("tanh"); err != nil || a != Tanh || a.String() != "tanh" {
		t.Errorf("ParseActivation(tanh) = %v, %v", a, err)
	}
	if _, err := ParseActivation("gelu"); err == nil {
		t.Error("ParseActivation(gelu) accepted")
	}
}

func TestMLPSeeded(t *testing.T) {
	a, err := NewMLPSeeded("a", 13, 32, 8, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewMLPSeeded("b", 13, 32, 8, 42)
	c, _ := NewMLPSeeded("c", 13, 32, 8, 43)
	ca, cb, cc := a.Config(), b.Config(), c.Config()
	same := func(x, y []float32) bool {
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return false
			}
		}
		return len(x) == len(y)
	}
	if !same(ca.W1, cb.W1) || !same(ca.W2, cb.W2) {
		t.Fatal("same seed, different weights")
	}
	if same(ca.W1, cc.W1) {
		t.Fatal("different seeds, same weights")
	}
	if ca.Activation != Tanh || ca.Head || a.OutDim() != 8 {
		t.Fatalf("seeded config %v head %v", ca.Activation, ca.Head)
	}
	check := func(name string, w []float32, fanIn int) {
		bound := float32(1 / math.Sqrt(float64(fanIn)))
		var sum float64
		for i, v := range w {
			if v < -bound || v >= bound {
				t.Fatalf("%s[%d] = %v outside ±%v", name, i, v, bound)
			}
			sum += float64(v)
		}
		if mean := sum / float64(len(w)); math.Abs(mean) > float64(bound)/4 {
			t.Errorf("%s mean %v, not near 0", name, mean)
		}
	}
	check("w1", ca.W1, 13)
	check("w2", ca.W2, 32)
	for _, v := range append(append([]float32{}, ca.B1...), ca.B2...) {
		if v != 0 {
			t.Fatal("seeded bias not 0")
		}
	}
	// Pinned: the SplitMix64 stream must never change, or seeded experts
	// (and every trace hash made with them) change with it.
	pinned := []float32{ca.W1[0], ca.W1[1], ca.W2[len(ca.W2)-1]}
	wantPinned := []float32{seededPin0, seededPin1, seededPin2}
	if !same(pinned, wantPinned) {
		t.Errorf("seeded weights %v, pinned %v", pinned, wantPinned)
	}
	out := Output{Hidden: make([]float32, 8)}
	x := make([]float32, 13)
	for i := range x {
		x[i] = float32(i) / 13
	}
	a.Eval(&Input{Embedding: x}, &out)
	for _, v := range out.Hidden {
		if !finite32(v) || v == 0 {
			t.Fatalf("seeded output %v", out.Hidden)
		}
	}
}

// Values of the first two W1 weights and the last W2 weight of
// NewMLPSeeded(_, 13, 32, 8, 42), cross-checked with an independent
// SplitMix64 in Python.
const (
	seededPin0 = 0.13399608
	seededPin1 = -0.18864778
	seededPin2 = -0.098675475
)

func TestMLPCloneAndAllocs(t *testing.T) {
	m, _ := NewMLPSeeded("m", 16, 32, 16, 1)
	c := m.Clone()
	x := make([]float32, 16)
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	o1 := Output{Hidden: make([]float32, 16)}
	o2 := Output{Hidden: make([]float32, 16)}
	m.Eval(&Input{Embedding: x}, &o1)
	c.Eval(&Input{Embedding: x}, &o2)
	for i := range o1.Hidden {
		if math.Float32bits(o1.Hidden[i]) != math.Float32bits(o2.Hidden[i]) {
			t.Fatal("clone differs")
		}
	}
	head := handMLP(t, Tanh, true)
	in := &Input{Embedding: x}
	if n := testing.AllocsPerRun(200, func() { m.Eval(in, &o1) }); n != 0 {
		t.Errorf("hidden MLP: %v allocs per Eval", n)
	}
	in2 := &Input{Embedding: []float32{0.3, -0.7}}
	var o3 Output
	if n := testing.AllocsPerRun(200, func() { head.Eval(in2, &o3) }); n != 0 {
		t.Errorf("head MLP: %v allocs per Eval", n)
	}
	// A hidden expert given too short an output abstains instead of panicking.
	short := Output{Hidden: make([]float32, 3)}
	m.Eval(in, &short)
	if !short.Abstain {
		t.Error("short Hidden: no abstain")
	}
}

// TestAffineOrder checks that the blocked kernel gives the same bits as the
// plain loop that defines the order of operations (bias first, then the
// products in increasing input index, each rounded).
func TestAffineOrder(t *testing.T) {
	for _, dims := range [][2]int{{1, 1}, {3, 5}, {4, 4}, {7, 3}, {13, 32}, {64, 17}} {
		in, n := dims[0], dims[1]
		x := testEmbedding(in, uint64(in))
		w := testEmbedding(in*n, uint64(n)+100)
		b := testEmbedding(n, 9)
		got := make([]float32, n)
		affine(got, x, w, b)
		for j := range n {
			want := b[j]
			for i := range in {
				want = want + float32(x[i]*w[i*n+j])
			}
			if math.Float32bits(got[j]) != math.Float32bits(want) {
				t.Fatalf("%dx%d: dst[%d] = %v, plain loop %v", in, n, j, got[j], want)
			}
		}
	}
}
