package expert

import (
	"math"
	"strings"
	"testing"

	"thunderline/hotpath/window"
)

// feats builds a feature vector from (feature, value) pairs.
func feats(kv map[window.Feature]float64) []float64 {
	f := make([]float64, window.NumFeatures)
	for k, v := range kv {
		f[k] = v
	}
	return f
}

type want struct {
	abstain bool
	scores  [NumActions]float64
	conf    float64
}

// checkOut compares an output with hand-computed values to float32
// precision.
func checkOut(t *testing.T, name string, got *Output, w want) {
	t.Helper()
	if got.Abstain != w.abstain {
		t.Fatalf("%s: abstain = %v, want %v (out %+v)", name, got.Abstain, w.abstain, *got)
	}
	if w.abstain {
		if got.Scores != [NumActions]float32{0, 0, 1} || got.Confidence != 0 {
			t.Fatalf("%s: abstention is not neutral: %+v", name, *got)
		}
		return
	}
	const tol = 1e-6
	for k := range w.scores {
		if d := math.Abs(float64(got.Scores[k]) - w.scores[k]); d > tol {
			t.Errorf("%s: scores[%d] = %v, want %v", name, k, got.Scores[k], w.scores[k])
		}
	}
	if d := math.Abs(float64(got.Confidence) - w.conf); d > tol {
		t.Errorf("%s: confidence = %v, want %v", name, got.Confidence, w.conf)
	}
	var sum float64
	for _, p := range got.Scores {
		sum += float64(p)
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("%s: scores sum to %v", name, sum)
	}
}

// headCase is one input of a head and what it must give.
type headCase struct {
	name string
	f    []float64
	want want
}

func runHeadCases(t *testing.T, e Expert, cases []headCase) {
	t.Helper()
	for _, c := range cases {
		var out Output
		e.Eval(&Input{Features: c.f}, &out)
		checkOut(t, c.name, &out, c.want)
	}
}

const (
	tanh1    = 0.7615941559557649  // tanh(1)
	tanhHalf = 0.46211715726000974 // tanh(0.5)
	tanhTen  = 0.09966799462495582 // tanh(0.1)
)

func TestMomentum(t *testing.T) {
	m, err := NewMomentum("mom", MomentumConfig{ThresholdBps: 10})
	if err != nil {
		t.Fatal(err)
	}
	runHeadCases(t, m, []headCase{
		// r = 10 bps = threshold: s = tanh(1); |r|/vol = 1: conf 1/2.
		{"up one threshold", feats(map[window.Feature]float64{window.FMid: 100, window.FMidReturn: 0.001, window.FRealizedVol: 0.001}),
			want{scores: [3]float64{tanh1, 0, 1 - tanh1}, conf: 0.5}},
		// r = -5 bps: s = tanh(-0.5); q = 0.0005/0.002 = 0.25: conf 0.2.
		{"down half threshold", feats(map[window.Feature]float64{window.FMid: 100, window.FMidReturn: -0.0005, window.FRealizedVol: 0.002}),
			want{scores: [3]float64{0, tanhHalf, 1 - tanhHalf}, conf: 0.2}},
		// no vol: the floor 1e-6 gives q = 100, conf 100/101.
		{"vol floor", feats(map[window.Feature]float64{window.FMid: 100, window.FMidReturn: 0.0001}),
			want{scores: [3]float64{tanhTen, 0, 1 - tanhTen}, conf: 100.0 / 101}},
		{"flat", feats(map[window.Feature]float64{window.FMid: 100, window.FRealizedVol: 0.001}),
			want{scores: [3]float64{0, 0, 1}, conf: 0}},
		{"no book", feats(map[window.Feature]float64{window.FMidReturn: 0.001}), want{abstain: true}},
		{"nan return", feats(map[window.Feature]float64{window.FMid: 100, window.FMidReturn: math.NaN()}), want{abstain: true}},
		{"inf vol", feats(map[window.Feature]float64{window.FMid: 100, window.FRealizedVol: math.Inf(1)}), want{abstain: true}},
		{"no features", nil, want{abstain: true}},
	})
}

func TestMeanReversion(t *testing.T) {
	m, err := NewMeanReversion("mr", MeanReversionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	in := func(r, vol, sp float64) []float64 {
		return feats(map[window.Feature]float64{window.FMid: 50, window.FMidReturn: r, window.FRealizedVol: vol, window.FSpreadBps: sp})
	}
	hold := want{scores: [3]float64{0, 0, 1}, conf: 0}
	runHeadCases(t, m, []headCase{
		// q = 3, e = 1, s = 1/2; tight = 1 - 2.5/10: conf 0.375; fade up = sell.
		{"fade rise", in(0.003, 0.001, 2.5), want{scores: [3]float64{0, 0.5, 0.5}, conf: 0.375}},
		// q = 4, e = 2, s = 2/3; tight = 1/2: conf 1/3; fade down = buy.
		{"fade drop", in(-0.004, 0.001, 5), want{scores: [3]float64{2.0 / 3, 0, 1.0 / 3}, conf: 1.0 / 3}},
		{"small move", in(0.0015, 0.001, 1), hold},
		{"at entry", in(0.002, 0.001, 1), hold},
		{"wide spread", in(0.003, 0.001, 10), hold},
		{"crossed", in(0.003, 0.001, -1), hold},
		{"no book", feats(map[window.Feature]float64{window.FMidReturn: 0.003}), want{abstain: true}},
		{"nan spread", in(0.003, 0.001, math.NaN()), want{abstain: true}},
	})
}

func TestOrderFlow(t *testing.T) {
	def, err := NewOrderFlow("of", OrderFlowConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ofiOnly, err := NewOrderFlow("of1", OrderFlowConfig{OFIScale: 100, WeightOFI: 1})
	if err != nil {
		t.Fatal(err)
	}
	in := func(ofi, tob float64) []float64 {
		return feats(map[window.Feature]float64{window.FMid: 10, window.FOFI: ofi, window.FTobImbalance: tob})
	}
	s1 := 0.5*tanh1 + 0.25  // both buy
	s2 := -0.5*tanh1 + 0.25 // flow sells, book buys
	runHeadCases(t, def, []headCase{
		{"agree", in(100, 0.5), want{scores: [3]float64{s1, 0, 1 - s1}, conf: s1}},
		{"disagree", in(-100, 0.5), want{scores: [3]float64{0, -s2, 1 + s2}, conf: -s2}},
		{"tob clamped", in(0, 3), want{scores: [3]float64{0.5, 0, 0.5}, conf: 0.5}},
		{"full sell", in(-1e9, -1), want{scores: [3]float64{0, 1, 0}, conf: 1}},
		{"no book", feats(map[window.Feature]float64{window.FOFI: 5}), want{abstain: true}},
		{"inf ofi", in(math.Inf(-1), 0), want{abstain: true}},
	})
	runHeadCases(t, ofiOnly, []headCase{
		{"ofi only", in(50, 1), want{scores: [3]float64{tanhHalf, 0, 1 - tanhHalf}, conf: tanhHalf}},
	})
}

func TestHeadConfigValidate(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		field string
	}{
		{"momentum threshold", MomentumConfig{ThresholdBps: -1}.Validate(), "threshold_bps"},
		{"momentum floor", MomentumConfig{VolFloor: math.NaN()}.Validate(), "vol_floor"},
		{"mr z", MeanReversionConfig{ZEntry: -2}.Validate(), "z_entry"},
		{"mr spread", MeanReversionConfig{MaxSpreadBps: math.Inf(1)}.Validate(), "max_spread_bps"},
		{"of scale", OrderFlowConfig{OFIScale: -5}.Validate(), "ofi_scale"},
		{"of weight", OrderFlowConfig{WeightOFI: -0.1, WeightTob: 0.5}.Validate(), "weight_ofi"},
		{"of sum", OrderFlowConfig{WeightOFI: 0.7, WeightTob: 0.7}.Validate(), "weight_ofi + weight_tob"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.field) {
			t.Errorf("%s: err = %v, want one naming %q", c.name, c.err, c.field)
		}
	}
	if err := (MomentumConfig{}).Validate(); err != nil {
		t.Errorf("default momentum config: %v", err)
	}
	if _, err := NewOrderFlow("x", OrderFlowConfig{WeightOFI: 2}); err == nil {
		t.Error("NewOrderFlow accepted weight_ofi 2")
	}
}

func TestHeadsDoNotAllocate(t *testing.T) {
	mom, _ := NewMomentum("m", MomentumConfig{})
	mr, _ := NewMeanReversion("r", MeanReversionConfig{})
	of, _ := NewOrderFlow("o", OrderFlowConfig{})
	in := &Input{Features: feats(map[window.Feature]float64{
		window.FMid: 100, window.FMidReturn: 0.003, window.FRealizedVol: 0.001,
		window.FSpreadBps: 2, window.FOFI: 40, window.FTobImbalance: -0.2})}
	var out Output
	for _, e := range []Expert{mom, mr, of} {
		if n := testing.AllocsPerRun(200, func() { e.Eval(in, &out) }); n != 0 {
			t.Errorf("%s: %v allocs per Eval", e.Kind(), n)
		}
	}
}

func TestDetMath(t *testing.T) {
	for x := -740.0; x <= 709; x += 0.37 {
		got, ref := detExp(x), math.Exp(x)
		tol := 5e-16 * ref
		if ref < 0x1p-1022 { // subnormal: compare in units of the smallest subnormal
			tol = 2 * 0x1p-1074
		}
		if math.Abs(got-ref) > tol {
			t.Fatalf("detExp(%v) = %v, math.Exp = %v", x, got, ref)
		}
	}
	for x := -30.0; x <= 30; x += 0.0137 {
		if d := math.Abs(detTanh(x) - math.Tanh(x)); d > 1e-15 {
			t.Fatalf("detTanh(%v) = %v, math.Tanh = %v", x, detTanh(x), math.Tanh(x))
		}
	}
	special := []struct{ x, want float64 }{
		{0, 1}, {1, math.E}, {800, math.Inf(1)}, {-800, 0}, {math.Inf(1), math.Inf(1)}, {math.Inf(-1), 0},
	}
	for _, c := range special {
		if got := detExp(c.x); got != c.want && math.Abs(got-c.want) > 1e-15 {
			t.Errorf("detExp(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if !math.IsNaN(detExp(math.NaN())) || !math.IsNaN(detTanh(math.NaN())) {
		t.Error("NaN in, not NaN out")
	}
	if detTanh(0) != 0 || detTanh(100) != 1 || detTanh(-100) != -1 {
		t.Error("detTanh special values")
	}
}
