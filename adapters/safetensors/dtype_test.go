package safetensors

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestF16RoundTrip: every binary16 value widens exactly and narrows back
// to itself (NaNs stay NaNs).
func TestF16RoundTrip(t *testing.T) {
	for h := range 1 << 16 {
		f := f16ToF32(uint16(h))
		back := f32ToF16(f)
		if f != f {
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("%#04x → %v → %#04x", h, f, back)
		}
	}
}

// nearest checks that narrow(v) is a nearest representable value, ties to
// an even mantissa, by comparing with its neighbours in float64.
func checkNearest(t *testing.T, what string, v float32, got uint16, widen func(uint16) float32, maxFinite float64) {
	t.Helper()
	g := float64(widen(got))
	x := float64(v)
	if math.IsInf(g, 0) {
		// Overflow: only when |v| is at least halfway past the largest finite.
		if math.Abs(x) < maxFinite {
			t.Fatalf("%s(%v) = inf", what, v)
		}
		return
	}
	d := math.Abs(g - x)
	for _, nb := range []uint16{got + 1, got - 1} {
		n := float64(widen(nb))
		if math.IsNaN(n) || math.IsInf(n, 0) || math.Signbit(n) != math.Signbit(g) && n != 0 {
			continue
		}
		dn := math.Abs(n - x)
		if dn < d || (dn == d && got&1 == 1) {
			t.Fatalf("%s(%v) = %v (%#04x), but %v (%#04x) is nearer or the even tie", what, v, g, got, n, nb)
		}
	}
}

func TestF16Nearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		// Random bits in the binary16 range and just around it.
		v := math.Float32frombits(r.Uint32()&0x80000000 | uint32(r.IntN(0x47ff_ffff-0x3300_0000)+0x3300_0000))
		checkNearest(t, "f16", v, f32ToF16(v), f16ToF32, 65520)
	}
}

// bf16Halfway is halfway between the largest finite bfloat16 and 2^128:
// from there on, values round to infinity.
var bf16Halfway = (float64(bf16ToF32(0x7f7f)) + 0x1p128) / 2

func TestBF16(t *testing.T) {
	for h := range 1 << 16 {
		f := bf16ToF32(uint16(h))
		if back := f32ToBF16(f); f == f && back != uint16(h) {
			t.Fatalf("%#04x → %v → %#04x", h, f, back)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		v := math.Float32frombits(r.Uint32())
		if v != v || math.IsInf(float64(v), 0) {
			continue
		}
		checkNearest(t, "bf16", v, f32ToBF16(v), bf16ToF32, bf16Halfway)
	}
	if got := f32ToBF16(float32(math.NaN())); got&0x7f80 != 0x7f80 || got&0x7f == 0 {
		t.Errorf("NaN → %#04x", got)
	}
}
