package router

import (
	"math"
	"testing"
)

// TestExp32 sweeps float32 inputs across [-104, 0] (every 1009th bit
// pattern, about a million values, plus the edges) and demands the
// correctly rounded float32 of math.Exp, which exp32's 1e-14 accuracy
// makes all but certain.
func TestExp32(t *testing.T) {
	f := func(x, want float32) {
		t.Helper()
		if got := exp32(x); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("exp32(%g) = %g, want %g", x, got, want)
		}
	}
	f(0, 1)
	f(float32(math.Copysign(0, -1)), 1)
	f(float32(math.Inf(-1)), 0)
	f(float32(math.NaN()), 0) // never called with NaN; documented as 0 here
	f(-104.0001, 0)
	f(-103.2, math.Float32frombits(1)) // e^-103.2 ≈ 1.5e-45 rounds to the smallest subnormal, 2^-149
	for _, x := range []float32{-1, -0.5, -1e-8, -87.33655 /* near the smallest normal */, -88, -100} {
		f(x, float32(math.Exp(float64(x))))
	}
	stride := uint32(1009)
	if testing.Short() {
		stride = 10007
	}
	n, differ := 0, 0
	for b := uint32(0x80000000); b <= math.Float32bits(-104); b += stride {
		x := math.Float32frombits(b)
		n++
		if exp32(x) != float32(math.Exp(float64(x))) {
			differ++
		}
	}
	if differ != 0 {
		t.Fatalf("%d of %d inputs differ from float32(math.Exp)", differ, n)
	}
	t.Logf("%d inputs, all equal to float32(math.Exp)", n)
}
