package safetensors

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"thunderline/hotpath/expert"
)

// TestMLPRoundTrip: MLPTensors → WriteFile → LoadMLP gives the same expert,
// bit for bit.
func TestMLPRoundTrip(t *testing.T) {
	for _, head := range []bool{false, true} {
		cfg := expert.MLPConfig{Name: "alpha", In: 5, Hidden: 7, Out: 3, Activation: expert.Tanh, Head: head}
		expert.SeedWeights(&cfg, 11)
		for j := range cfg.B1 {
			cfg.B1[j] = float32(j) / 10
		}
		want, err := expert.NewMLP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ts, md := MLPTensors("experts.alpha", cfg)
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := WriteFile(path, ts, md); err != nil {
			t.Fatal(err)
		}
		got, err := LoadMLP(path, "experts.alpha")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name() != "alpha" || got.OutDim() != want.OutDim() || got.Config().Activation != expert.Tanh {
			t.Fatalf("loaded %s out %d act %v", got.Name(), got.OutDim(), got.Config().Activation)
		}
		in := &expert.Input{Embedding: []float32{0.1, -0.2, 0.3, 0.9, -1}}
		o1 := expert.Output{Hidden: make([]float32, 3)}
		o2 := expert.Output{Hidden: make([]float32, 3)}
		want.Eval(in, &o1)
		got.Eval(in, &o2)
		for k := range 3 {
			if math.Float32bits(o1.Hidden[k]) != math.Float32bits(o2.Hidden[k]) ||
				math.Float32bits(o1.Scores[k]) != math.Float32bits(o2.Scores[k]) {
				t.Fatalf("head=%v: outputs differ: %+v vs %+v", head, o1, o2)
			}
		}
	}
}

func TestLoadMLPErrors(t *testing.T) {
	w := func(name string, shape []int) Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return Tensor{Name: name, Shape: shape, Data: make([]float32, n)}
	}
	good := func() []Tensor {
		return []Tensor{w("m.w1", []int{2, 4}), w("m.b1", []int{4}), w("m.w2", []int{4, 3}), w("m.b2", []int{3})}
	}
	cases := []struct {
		name   string
		edit   func([]Tensor) []Tensor
		md     map[string]string
		reason string
	}{
		{"missing b2", func(ts []Tensor) []Tensor { return ts[:3] }, nil, `"m.b2": no such tensor`},
		{"w1 rank", func(ts []Tensor) []Tensor { ts[0] = w("m.w1", []int{8}); return ts }, nil, `"m.w1": shape [8]: want 2 dimensions`},
		{"b1 size", func(ts []Tensor) []Tensor { ts[1] = w("m.b1", []int{5}); return ts }, nil, `"m.b1": shape [5]: want [4]`},
		{"w2 rows", func(ts []Tensor) []Tensor { ts[2] = w("m.w2", []int{3, 3}); return ts }, nil, `"m.w2": shape [3 3]`},
		{"b2 size", func(ts []Tensor) []Tensor { ts[3] = w("m.b2", []int{2}); return ts }, nil, `"m.b2": shape [2]: want [3]`},
		{"activation", nil, map[string]string{"m.activation": "gelu"}, "m.activation"},
		{"role", nil, map[string]string{"m.role": "boss"}, "m.role"},
		{"head needs 3", func(ts []Tensor) []Tensor {
			ts[2], ts[3] = w("m.w2", []int{4, 2}), w("m.b2", []int{2})
			return ts
		}, map[string]string{"m.role": "head"}, "action head"},
	}
	for _, c := range cases {
		ts := good()
		if c.edit != nil {
			ts = c.edit(ts)
		}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := WriteFile(path, ts, c.md); err != nil {
			t.Fatal(err)
		}
		_, err := LoadMLP(path, "m")
		if err == nil || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.reason)
		}
	}
	// The defaults: relu, head because out = 3, named by the prefix.
	path := filepath.Join(t.TempDir(), "ok.safetensors")
	if err := WriteFile(path, good(), nil); err != nil {
		t.Fatal(err)
	}
	m, err := LoadMLP(path, "m")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "m" || m.OutDim() != 0 || m.Config().Activation != expert.ReLU {
		t.Errorf("defaults: %s out %d %v", m.Name(), m.OutDim(), m.Config().Activation)
	}
	if _, err := LoadMLP(filepath.Join(t.TempDir(), "none"), "m"); err == nil {
		t.Error("LoadMLP of a missing file succeeded")
	}
}
