package router

import "math"

// Constants of exp32 (doc.go, step 3). Ln2Hi·k is exact for |k| < 2^21
// (Ln2Hi has 21 trailing zero bits); together Ln2Hi+Ln2Lo carry ln 2 to
// about 2^-84. The Taylor coefficients are 1/j! rounded once to float64
// (Go evaluates constant expressions exactly, as does an IEEE division of
// two exact integers in NumPy).
const (
	expLog2e   = 1.44269504088896338700e+00 // 0x3FF71547652B82FE
	expLn2Hi   = 6.93147180369123816490e-01 // 0x3FE62E42FEE00000
	expLn2Lo   = 1.90821492927058770002e-10 // 0x3DEA39EF35793C76
	expShifter = 6755399441055744.0         // 1.5·2^52: adding it rounds to an integer
	expCutoff  = -104.0                     // exp(x) < 2^-150 below: rounds to float32 0
	expC2      = 1.0 / 2
	expC3      = 1.0 / 6
	expC4      = 1.0 / 24
	expC5      = 1.0 / 120
	expC6      = 1.0 / 720
	expC7      = 1.0 / 5040
	expC8      = 1.0 / 40320
	expC9      = 1.0 / 362880
	expC10     = 1.0 / 3628800
	expC11     = 1.0 / 39916800
)

// exp32 returns f32(e^x) for a float32 x <= 0 (or -Inf), evaluated with a
// fixed sequence of float64 operations so that every architecture and the
// NumPy reference get the same bits (math.Exp has per-architecture
// assembly, some of it using FMA). Relative error before the final
// rounding is below 1e-14, so the result is the correctly rounded float32
// unless e^x lies within 1e-14 (relative) of a float32 rounding boundary
// (TestExp32 finds no difference from float32(math.Exp) over all float32
// inputs in [-104, 0]).
//
//	k = (x·log2e + 1.5·2^52) − 1.5·2^52     (round to nearest integer)
//	r = (x − k·Ln2Hi) − k·Ln2Lo
//	r2 = r·r, r4 = r2·r2, r8 = r4·r4
//	p = ((1 + r) + r2·(c2 + c3·r)) + r4·((c4 + c5·r) + r2·(c6 + c7·r))
//	    + r8·((c8 + c9·r) + r2·(c10 + c11·r))          (c_j = 1/j!)
//	e^x = f32(p · 2^k)
//
// evaluated left to right as parenthesized, each product rounded to float64
// before it is added (Estrin's scheme for the degree-11 Taylor polynomial).
//
// For x < -104 (and -Inf) the result is 0: e^-104 < 2^-150, half the
// smallest float32 subnormal.
func exp32(x float32) float32 {
	in, out := [1]float32{x}, [1]float32{}
	expInto(out[:], in[:])
	return out[0]
}

// expInto sets dst[j] = exp32(src[j]). It is one loop with the polynomial
// in its body, so successive elements overlap in the pipeline (a call per
// element would serialize them).
func expInto(dst, src []float32) {
	dst = dst[:len(src)]
	for j, x := range src {
		if !(x >= expCutoff) {
			dst[j] = 0
			continue
		}
		xd := float64(x)
		t := float64(xd*expLog2e) + expShifter // k sits in the low mantissa bits of t
		k := t - expShifter
		r := float64(xd-float64(k*expLn2Hi)) - float64(k*expLn2Lo)
		// Estrin's scheme: the same polynomial as Horner's, in a shallower
		// tree of operations (a quarter of the latency).
		r2 := float64(r * r)
		r4 := float64(r2 * r2)
		r8 := float64(r4 * r4)
		q01 := 1 + r
		q23 := expC2 + float64(expC3*r)
		q45 := expC4 + float64(expC5*r)
		q67 := expC6 + float64(expC7*r)
		q89 := expC8 + float64(expC9*r)
		qab := expC10 + float64(expC11*r)
		q03 := q01 + float64(r2*q23)
		q47 := q45 + float64(r2*q67)
		q8b := q89 + float64(r2*qab)
		q07 := q03 + float64(r4*q47)
		p := q07 + float64(r8*q8b)
		// 2^k: t's bits minus the shifter's are k exactly (|k| < 2^51).
		ki := int64(math.Float64bits(t) - math.Float64bits(expShifter))
		dst[j] = float32(p * math.Float64frombits(uint64(1023+ki)<<52))
	}
}
