package router

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

func seedLayer(t testing.TB, dim int, cfg LayerConfig, seed uint64) (*Layer, []float32) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	wg := make([]float32, dim*cfg.Experts)
	for j := range wg {
		wg[j] = float32(r.NormFloat64() * 0.5)
	}
	l, err := NewLayer(cfg, dim, wg)
	if err != nil {
		t.Fatal(err)
	}
	return l, wg
}

func randEmb(n, dim int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	emb := make([]float32, n*dim)
	for j := range emb {
		emb[j] = float32(r.NormFloat64())
	}
	return emb
}

func TestValidate(t *testing.T) {
	good := LayerConfig{Experts: 16, CapacityFactor: 2, P: 0.65}
	f := func(mut func(*LayerConfig), field string) {
		t.Helper()
		c := good
		mut(&c)
		err := c.Validate()
		if field == "" {
			if err != nil {
				t.Fatalf("%+v: unexpected %v", c, err)
			}
			return
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != field || !strings.Contains(err.Error(), field) {
			t.Fatalf("%+v: got %v, want an error naming %s", c, err, field)
		}
	}
	f(func(c *LayerConfig) {}, "")
	f(func(c *LayerConfig) { c.Experts = 1; c.P = 1; c.MaxExpertsPerToken = 9; c.Undercovered = PolicyArgmax }, "")
	f(func(c *LayerConfig) { c.Experts = MaxExperts }, "")
	f(func(c *LayerConfig) { c.Layer = -1 }, "layer")
	f(func(c *LayerConfig) { c.Experts = 0 }, "experts")
	f(func(c *LayerConfig) { c.Experts = MaxExperts + 1 }, "experts")
	f(func(c *LayerConfig) { c.CapacityFactor = 0 }, "capacity_factor")
	f(func(c *LayerConfig) { c.CapacityFactor = -1 }, "capacity_factor")
	f(func(c *LayerConfig) { c.CapacityFactor = math.NaN() }, "capacity_factor")
	f(func(c *LayerConfig) { c.CapacityFactor = math.Inf(1) }, "capacity_factor")
	f(func(c *LayerConfig) { c.P = 0 }, "p")
	f(func(c *LayerConfig) { c.P = 1.0000001 }, "p")
	f(func(c *LayerConfig) { c.P = math.NaN() }, "p")
	f(func(c *LayerConfig) { c.MaxExpertsPerToken = -1 }, "max_experts_per_token")
	f(func(c *LayerConfig) { c.Undercovered = 2 }, "undercovered")

	for _, s := range []string{"abstain", "argmax"} {
		p, err := ParsePolicy(s)
		if err != nil || p.String() != s {
			t.Fatalf("ParsePolicy(%q) = %v, %v", s, p, err)
		}
	}
	if _, err := ParsePolicy("top1"); err == nil {
		t.Fatal("ParsePolicy accepted top1")
	}
}

func TestCapacity(t *testing.T) {
	f := func(n, E int, c float64, want int) {
		t.Helper()
		got := LayerConfig{Experts: E, CapacityFactor: c, P: 1}.Capacity(n)
		if got != want {
			t.Fatalf("Capacity(n=%d, E=%d, c=%v) = %d, want %d", n, E, c, got, want)
		}
	}
	f(256, 16, 2, 32)
	f(256, 12, 1.8, 39) // 38.4
	f(256, 8, 1.6, 52)  // 51.2
	f(50, 10, 2.2, 11)  // 11.000000000000002 in float64
	f(45, 3, 2.2, 33)
	f(1, 16, 0.5, 1) // clamped up
	f(10, 1, 4, 10)  // clamped down
	f(0, 4, 1, 0)
}

func TestNewLayerErrors(t *testing.T) {
	cfg := LayerConfig{Experts: 4, CapacityFactor: 1, P: 0.5}
	f := func(cfg LayerConfig, dim int, wg []float32, field string) {
		t.Helper()
		_, err := NewLayer(cfg, dim, wg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Fatalf("NewLayer(dim=%d, len=%d): %v, want field %s", dim, len(wg), err, field)
		}
	}
	f(LayerConfig{}, 1, nil, "experts")
	f(cfg, 0, nil, "dim")
	f(cfg, MaxDim+1, nil, "dim")
	f(cfg, 3, make([]float32, 11), "gate_weights")
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		wg := make([]float32, 12)
		wg[7] = bad
		f(cfg, 3, wg, "gate_weights")
	}
	// The layer owns a copy of the gate matrix.
	wg := make([]float32, 12)
	l, err := NewLayer(cfg, 3, wg)
	if err != nil {
		t.Fatal(err)
	}
	wg[0] = 100
	if l.GateWeights()[0] != 0 || l.Dim() != 3 || l.Experts() != 4 || l.Config() != cfg {
		t.Fatal("layer shares the caller's gate matrix or lost its shape")
	}
}

func TestRouteErrors(t *testing.T) {
	l, _ := seedLayer(t, 8, LayerConfig{Experts: 4, CapacityFactor: 1, P: 0.5}, 1)
	a := NewAssignment(10, 4)
	f := func(emb []float32, n int, a *Assignment, want error) {
		t.Helper()
		if err := l.Route(emb, n, a); !errors.Is(err, want) {
			t.Fatalf("Route(len %d, n %d): %v, want %v", len(emb), n, err, want)
		}
	}
	f(make([]float32, 80), 10, nil, ErrNilAssignment)
	f(make([]float32, 88), 11, a, ErrTooManyTokens)
	f(make([]float32, 79), 10, a, ErrEmbeddingShape)
	f(make([]float32, 81), 10, a, ErrEmbeddingShape)
	f(nil, -1, a, ErrNegativeBatchSize)
	f(make([]float32, 8), 1, NewAssignment(10, 3), ErrTooManyExperts)
	f(make([]float32, 80), 10, a, nil)
}

func TestEmptyBatch(t *testing.T) {
	l, _ := seedLayer(t, 8, LayerConfig{Layer: 2, Version: 9, Experts: 4, CapacityFactor: 1, P: 0.5}, 1)
	a := NewAssignment(10, 4)
	if err := l.Route(randEmb(10, 8, 1), 10, a); err != nil {
		t.Fatal(err)
	}
	if err := l.Route(nil, 0, a); err != nil {
		t.Fatal(err)
	}
	if a.N != 0 || a.K != 0 || len(a.Probs) != 0 || a.Pairs() != 0 || a.Stats != (Stats{}) || a.Layer != 2 || a.RouterVersion != 9 {
		t.Fatalf("empty batch left %+v", a)
	}
	for e := 0; e < 4; e++ {
		if len(a.ExpertTokens(e)) != 0 {
			t.Fatalf("expert %d kept tokens of the previous batch", e)
		}
	}
}

// TestGateMatmulBitIdentical: the blocked kernel, and with GOEXPERIMENT=simd
// every vector kernel this CPU runs, equal the naive triple loop bit for
// bit for every remainder of the blockings, and a token's logits do not
// depend on the batch it is in.
func TestGateMatmulBitIdentical(t *testing.T) {
	t.Logf("Route uses the %s kernel; vector kernels checked: %d", simdKernel, len(simdKernels()))
	// make test sets THUNDERLINE_REQUIRE_SIMD=avx2 on its GOEXPERIMENT=simd run
	// when the CPU has AVX2, so a build that silently fell back to the
	// portable kernel fails here instead of checking nothing.
	if want := os.Getenv("THUNDERLINE_REQUIRE_SIMD"); want != "" {
		if _, ok := simdKernels()[want]; !ok {
			t.Fatalf("THUNDERLINE_REQUIRE_SIMD=%s but this build has kernels %v (built without GOEXPERIMENT=simd?)", want, simdKernels())
		}
	}
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 33} {
		for _, E := range []int{1, 2, 3, 5, 8, 9, 12, 16, 17, 31, 32, 33} {
			for _, D := range []int{1, 2, 3, 64, 65} {
				x := make([]float32, n*D)
				w := make([]float32, D*E, D*E+simdPad)
				for j := range x {
					x[j] = float32(r.NormFloat64() * 10)
				}
				for j := range w {
					w[j] = float32(r.NormFloat64())
				}
				wt := make([]float32, E*D)
				for d := 0; d < D; d++ {
					for e := 0; e < E; e++ {
						wt[e*D+d] = w[d*E+e]
					}
				}
				got := make([]float32, n*E)
				want := make([]float32, n*E)
				gateMatmul(got, x, wt, n, D, E)
				naiveGateMatmul(want, x, w, n, D, E)
				for j := range got {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("n=%d E=%d D=%d: out[%d] %v, naive %v", n, E, D, j, got[j], want[j])
					}
				}
				for name, kernel := range simdKernels() {
					simd := make([]float32, n*E, n*E+simdPad)
					kernel(simd, x, w, wt, n, D, E)
					for j := range simd {
						if math.Float32bits(simd[j]) != math.Float32bits(want[j]) {
							t.Fatalf("%s n=%d E=%d D=%d: out[%d] %v, naive %v", name, n, E, D, j, simd[j], want[j])
						}
					}
				}
				// Token by token (a batch of one) gives the same rows.
				one := make([]float32, E)
				for i := 0; i < n; i++ {
					gateMatmul(one, x[i*D:(i+1)*D], wt, 1, D, E)
					if !slices.Equal(one, got[i*E:(i+1)*E]) {
						t.Fatalf("n=%d E=%d D=%d: token %d differs alone", n, E, D, i)
					}
				}
			}
		}
	}
}

// TestNoFusedMultiplyAdd: a case where a fused multiply-add would give a
// different answer, so a compiler fusing the kernel would fail here.
func TestNoFusedMultiplyAdd(t *testing.T) {
	// a = 1+2^-12, so a² = 1 + 2^-11 + 2^-24 exactly; rounded to float32
	// (a tie, to even) it is 1 + 2^-11. The accumulator holds -(1+2^-11)
	// when a² is added: rounded first, the sum is 0; fused, it is 2^-24.
	a := float32(1 + 1.0/4096)
	x := []float32{1, a}
	w := []float32{-(1 + 1.0/2048), a} // D=2, E=1
	if fused := float32(math.FMA(float64(a), float64(a), -(1 + 1.0/2048))); fused == 0 {
		t.Fatal("the case does not tell fused from unfused")
	}
	out := make([]float32, 1)
	gateMatmul(out, x, w, 1, 2, 1)
	if out[0] != 0 {
		t.Fatalf("got %g, want 0 (products rounded before the add)", out[0])
	}
}

// TestInvalidTokens: NaN and Inf embeddings (and overflow) make their tokens
// invalid; the rest of the batch routes as if they were absent.
func TestInvalidTokens(t *testing.T) {
	const n, dim = 40, 8
	cfg := LayerConfig{Experts: 4, CapacityFactor: 2, P: 0.7, Undercovered: PolicyArgmax}
	l, wg := seedLayer(t, dim, cfg, 3)
	emb := randEmb(n, dim, 3)
	bad := map[int]float32{
		3:  float32(math.NaN()),
		10: float32(math.Inf(1)),
		11: float32(math.Inf(-1)),
		20: 3e38, // finite, but the logits overflow to ±Inf
	}
	for i, v := range bad {
		emb[i*dim+1] = v
		if i == 20 {
			for d := 0; d < dim; d++ {
				emb[i*dim+d] = v
			}
		}
	}
	a := NewAssignment(n, 4)
	if err := l.Route(emb, n, a); err != nil {
		t.Fatal(err)
	}
	if a.Stats.Invalid != len(bad) {
		t.Fatalf("Invalid = %d, want %d", a.Stats.Invalid, len(bad))
	}
	for i := range bad {
		ex, _ := a.TokenExperts(i)
		if a.Status(i) != StatusInvalid || len(ex) != 0 || !math.IsNaN(float64(a.Probs[i*4])) {
			t.Fatalf("token %d: status %v experts %v probs %v", i, a.Status(i), ex, a.Probs[i*4:i*4+4])
		}
	}
	checkInvariants(t, 0, l, a)
	checkAgainstOracle(t, 0, cfg, dim, wg, emb, n, a)
	// Every row invalid: nothing routed, no error.
	for j := range emb {
		emb[j] = float32(math.NaN())
	}
	if err := l.Route(emb, n, a); err != nil {
		t.Fatal(err)
	}
	if a.Stats.Invalid != n || a.Pairs() != 0 || a.Stats.Entropy != 0 || a.Stats.Undercovered != 0 {
		t.Fatalf("all-NaN batch: %+v", a.Stats)
	}
}

// TestZeroProbabilityGates: a token whose kept probabilities all underflow
// to 0 gets uniform gates (doc.go, step 8).
func TestZeroProbabilityGates(t *testing.T) {
	// W = I (5×5), so the logits are the embeddings. k = ceil(3·1/5) = 1.
	// Experts 0 and 1 pick token 1 (p = 0.5 each); expert 3 picks token 2
	// (p ≈ 1 beats token 0's 0.99991); experts 2 and 4 see probability 0
	// (exp(-210) underflows) for every token and pick token 0 on the tie.
	// Token 0 therefore holds only zero-probability experts: p is never
	// reached, it keeps both, and their gates are uniform.
	const E = 5
	w := make([]float32, E*E)
	for e := 0; e < E; e++ {
		w[e*E+e] = 1
	}
	l, err := NewLayer(LayerConfig{Experts: E, CapacityFactor: 1, P: 0.5}, E, w)
	if err != nil {
		t.Fatal(err)
	}
	emb := []float32{
		0, 0, -200, 10, -200,
		0, 0, -200, -200, -200,
		-200, -200, -200, 20, -200,
	}
	a := NewAssignment(3, E)
	if err := l.Route(emb, 3, a); err != nil {
		t.Fatal(err)
	}
	ex, g := a.TokenExperts(0)
	if a.Probs[2] != 0 || a.Probs[4] != 0 || !slices.Equal(ex, []int16{2, 4}) || !slices.Equal(g, []float32{0.5, 0.5}) {
		t.Fatalf("token 0: probs %v experts %v gates %v", a.Probs[:E], ex, g)
	}
	if a.Stats.PSaturation[0] != 1 {
		t.Fatalf("coverage 0 not in bucket 0: %v", a.Stats.PSaturation)
	}
	for _, tc := range []struct {
		tok  int
		want []int16
	}{{1, []int16{0}}, {2, []int16{3}}} {
		if ex, _ := a.TokenExperts(tc.tok); !slices.Equal(ex, tc.want) {
			t.Fatalf("token %d: experts %v, want %v", tc.tok, ex, tc.want)
		}
	}
}

func TestRouteAllocations(t *testing.T) {
	for _, pol := range []Policy{PolicyAbstain, PolicyArgmax} {
		cfg := LayerConfig{Experts: 16, CapacityFactor: 0.8, P: 0.65, MaxExpertsPerToken: 3, Undercovered: pol}
		l, _ := seedLayer(t, 64, cfg, 11)
		emb := randEmb(256, 64, 11)
		emb[5*64] = float32(math.NaN())
		a := NewAssignment(256, 16)
		allocs := testing.AllocsPerRun(50, func() {
			if err := l.Route(emb, 256, a); err != nil {
				t.Fatal(err)
			}
			_ = l.Route(emb, 300, a) // the error path allocates nothing either
		})
		if allocs != 0 {
			t.Fatalf("%v: %v allocations per Route, want 0", pol, allocs)
		}
		if a.Stats.Undercovered == 0 {
			t.Fatalf("%v: the batch exercised no undercovered tokens", pol)
		}
	}
}
