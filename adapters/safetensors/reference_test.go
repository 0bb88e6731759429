package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"thunderline/hotpath/expert"
)

// The tests in this file run the reference implementation (Python
// safetensors==0.4.5, numpy==2.1.3): they fail, naming the packages, when
// it is missing.

func requirePython(t *testing.T) {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import safetensors, numpy; print(safetensors.__version__, numpy.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("these tests need python3 with the reference packages: pip install safetensors==0.4.5 numpy==2.1.3\n%v: %s", err, out)
	}
}

// TestReadReference reads the committed file written by the reference
// writer (testdata/make_reference.py) and checks every value.
func TestReadReference(t *testing.T) {
	f, err := Load("testdata/reference.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]string{"mlp.activation": "tanh", "mlp.role": "head", "source": "make_reference.py"}
	if !reflect.DeepEqual(f.Metadata(), wantMeta) {
		t.Errorf("metadata %v, want %v", f.Metadata(), wantMeta)
	}
	names := f.Names()
	slices.Sort(names)
	wantNames := []string{"bf", "double", "empty", "f16_numpy", "f16_src", "half", "ints",
		"mlp.b1", "mlp.b2", "mlp.w1", "mlp.w2", "probe.scores", "probe.x", "scalar"}
	if !slices.Equal(names, wantNames) {
		t.Fatalf("names %v, want %v", names, wantNames)
	}
	seq := func(n int, f func(i int) float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = f(i)
		}
		return v
	}
	inf := float32(math.Inf(1))
	cases := []struct {
		name  string
		dtype DType
		shape []int
		want  []float32
	}{
		{"mlp.w1", F32, []int{3, 4}, seq(12, func(i int) float32 { return float32(i)*0.25 - 1.5 })},
		{"mlp.b1", F32, []int{4}, []float32{0.1, -0.2, 0.3, -0.4}},
		{"mlp.w2", F32, []int{4, 3}, seq(12, func(i int) float32 { return float32(i)/8 - 0.5 })},
		{"mlp.b2", F32, []int{3}, []float32{0, 0.5, -0.5}},
		{"half", F16, []int{2, 3}, []float32{0.5, -2, 65504, 0x1p-24, float32(math.Copysign(0, -1)), 0.333251953125}},
		{"bf", BF16, []int{4}, []float32{1, -2.5, 3.140625, 0x1p-10}},
		{"double", F64, []int{2}, []float32{1.5, -1e-3}},
		{"scalar", F32, []int{}, []float32{7}},
		{"empty", F32, []int{0}, []float32{}},
		{"f16_numpy", F16, []int{21}, []float32{1, 1.001953125, 65504, 65504, inf, -inf,
			0x1p-24, 0, 0x1p-24, 0x1p-23, 0x1p-23, 0, 6.097555160522461e-05, 6.103515625e-05,
			0.0999755859375, -7.30078125, 3.140625, 0.333251953125, inf, -inf, float32(math.Copysign(0, -1))}},
	}
	for _, c := range cases {
		got, shape, err := f.Tensor(c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		info, _ := f.Info(c.name)
		if info.DType != c.dtype || !slices.Equal(shape, c.shape) {
			t.Errorf("%s: %s %v, want %s %v", c.name, info.DType, shape, c.dtype, c.shape)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d values, want %d", c.name, len(got), len(c.want))
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(c.want[i]) {
				t.Errorf("%s[%d] = %v, want %v", c.name, i, got[i], c.want[i])
			}
		}
	}

	// numpy's float32 → float16 rounding is the reference for f32ToF16.
	src, _, _ := f.Tensor("f16_src")
	_, raw, _ := f.Raw("f16_numpy")
	for i, v := range src {
		want := binary.LittleEndian.Uint16(raw[2*i:])
		if got := f32ToF16(v); got != want {
			t.Errorf("f32ToF16(%v) = %#04x, numpy %#04x", v, got, want)
		}
	}

	if _, _, err := f.Tensor("ints"); !errors.Is(err, ErrDType) {
		t.Errorf("ints: err = %v, want ErrDType", err)
	}
	if _, _, err := f.Tensor("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("nope: err = %v, want ErrNotFound", err)
	}
}

// TestLoadMLPReference loads the reference file's MLP and checks it
// against the probe computed by numpy in float64.
func TestLoadMLPReference(t *testing.T) {
	m, err := LoadMLP("testdata/reference.safetensors", "mlp")
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	if m.Name() != "mlp" || cfg.In != 3 || cfg.Hidden != 4 || cfg.Out != 3 || !cfg.Head || cfg.Activation != expert.Tanh {
		t.Fatalf("config %s %dx%dx%d head %v %v", m.Name(), cfg.In, cfg.Hidden, cfg.Out, cfg.Head, cfg.Activation)
	}
	f, _ := Load("testdata/reference.safetensors")
	x, _, _ := f.Tensor("probe.x")
	want, _, _ := f.Tensor("probe.scores")
	var out expert.Output
	m.Eval(&expert.Input{Embedding: x}, &out)
	for k := range want {
		if math.Abs(float64(out.Scores[k]-want[k])) > 1e-6 {
			t.Errorf("scores[%d] = %v, numpy %v", k, out.Scores[k], want[k])
		}
	}
}

// sample is the tensor set of testdata/sample.py.
func sample() ([]Tensor, map[string]string) {
	return []Tensor{
		{Name: "b", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
		{Name: "a", Shape: []int{3}, Data: []float32{0.5, -1, 2}},
		{Name: "h", DType: F16, Shape: []int{3}, Data: []float32{1, -0.5, 65504}},
		{Name: "z", DType: BF16, Shape: []int{2}, Data: []float32{3, -0.15625}},
		{Name: "d", DType: F64, Shape: []int{1}, Data: []float32{0.25}},
		{Name: "s", Shape: []int{}, Data: []float32{7}},
		{Name: "e", Shape: []int{0, 3}, Data: []float32{}},
		{Name: "na\u00efve \"q\"\n\t\x01\\", Shape: []int{1}, Data: []float32{9}},
		{Name: "sep\u2028\u2029 <a&b> \x7f\b\f \\u2028", Shape: []int{1}, Data: []float32{10}},
	}, map[string]string{"format": "pt"}
}

// TestWriteMatchesReference: Write and the reference writer give the same
// bytes for the same tensors.
func TestWriteMatchesReference(t *testing.T) {
	requirePython(t)
	ref := filepath.Join(t.TempDir(), "ref.safetensors")
	if out, err := exec.Command("python3", "testdata/sample.py", ref).CombinedOutput(); err != nil {
		t.Fatalf("sample.py: %v: %s", err, out)
	}
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	ts, md := sample()
	var got bytes.Buffer
	if err := Write(&got, ts, md); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("Write differs from the reference writer:\n go: %q\nref: %q", got.Bytes(), want)
	}
}

// TestReferenceReadsWrite: the reference reader parses what Write
// produces (several metadata keys, every float dtype, odd names) and sees
// the same values.
func TestReferenceReadsWrite(t *testing.T) {
	requirePython(t)
	ts, _ := sample()
	ts = append(ts,
		Tensor{Name: "round16", DType: F16, Shape: []int{4}, Data: []float32{0.1, 1e-7, 70000, -3.3}},
		Tensor{Name: "roundbf", DType: BF16, Shape: []int{3}, Data: []float32{0.1, 1e-7, -3.3}},
	)
	md := map[string]string{"format": "pt", "b": "two\nlines", "ünï": "cödé"}
	path := filepath.Join(t.TempDir(), "go.safetensors")
	if err := WriteFile(path, ts, md); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("python3", "testdata/verify.py", path).Output()
	if err != nil {
		t.Fatalf("verify.py: %v", err)
	}
	var got struct {
		Metadata map[string]string
		Tensors  map[string]struct {
			DType  string
			Shape  []int
			Values []any
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Metadata, md) {
		t.Errorf("metadata %v, want %v", got.Metadata, md)
	}
	if len(got.Tensors) != len(ts) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(ts))
	}
	for _, tn := range ts {
		g, ok := got.Tensors[tn.Name]
		if !ok {
			t.Fatalf("tensor %q missing", tn.Name)
		}
		if g.DType != dtypeOf(&tn).String() || !slices.Equal(g.Shape, tn.Shape) {
			t.Errorf("%q: %s %v, want %s %v", tn.Name, g.DType, g.Shape, dtypeOf(&tn), tn.Shape)
		}
		for i, v := range tn.Data {
			want := float64(v)
			switch dtypeOf(&tn) {
			case F16:
				want = float64(f16ToF32(f32ToF16(v)))
			case BF16:
				want = float64(bf16ToF32(f32ToBF16(v)))
			}
			var gv float64
			switch x := g.Values[i].(type) {
			case float64:
				gv = x
			case string:
				gv = map[string]float64{"inf": math.Inf(1), "-inf": math.Inf(-1)}[x]
			}
			if gv != want {
				t.Errorf("%q[%d] = %v, want %v", tn.Name, i, gv, want)
			}
		}
	}
}
