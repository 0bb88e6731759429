package expert

import "math"

// Deterministic elementary functions.
//
// math.Exp has an assembly implementation on amd64 that takes an FMA path
// only on CPUs with FMA3, so its last bit can differ between two amd64
// machines, and math.Tanh is built on math.Exp. The experts' outputs end up
// in DecisionTrace hashes, so they use these versions instead: only
// additions, multiplications and divisions, each rounded on its own (every
// product that feeds an addition is wrapped in float64(...), which the Go
// spec requires to round, so no fused multiply-add can change a bit),
// math.Floor and scaling by a power of two (both exact). The result is the same bit pattern
// on every architecture. Accuracy is within a few ulp of math.Exp (tested).

const (
	ln2Hi  = 6.93147180369123816490e-01 // high bits of ln 2: k*ln2Hi is exact for |k| < 2^11
	ln2Lo  = 1.90821492927058770002e-10 // ln 2 - ln2Hi
	log2e  = 1.44269504088896338700e+00 // 1/ln 2
	expMax = 7.09782712893383973096e+02 // above: +Inf
	expMin = -7.45133219101941108420e+02
)

// expCoef[n] = 1/n! for the Taylor series of e^r on |r| <= ln2/2: the
// truncation error after r^13/13! is below 1e-17.
var expCoef = [14]float64{
	1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
	1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800,
}

// detExp is e^x, bit-identical on every architecture.
func detExp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x > expMax:
		return math.Inf(1)
	case x < expMin:
		return 0
	}
	// x = k*ln2 + r with |r| <= ln2/2 (Cody-Waite reduction in two steps).
	k := math.Floor(float64(x*log2e) + 0.5)
	r := x - float64(k*ln2Hi)
	r = r - float64(k*ln2Lo)
	// Estrin's scheme: the same polynomial as Horner, with a dependency
	// chain of depth 4 instead of 13 (about 3× faster), every product rounded.
	c := &expCoef
	r2 := float64(r * r)
	r4 := float64(r2 * r2)
	r8 := float64(r4 * r4)
	q0 := c[0] + float64(c[1]*r)
	q1 := c[2] + float64(c[3]*r)
	q2 := c[4] + float64(c[5]*r)
	q3 := c[6] + float64(c[7]*r)
	q4 := c[8] + float64(c[9]*r)
	q5 := c[10] + float64(c[11]*r)
	q6 := c[12] + float64(c[13]*r)
	s0 := q0 + float64(q1*r2)
	s1 := q2 + float64(q3*r2)
	s2 := q4 + float64(q5*r2)
	t0 := s0 + float64(s1*r4)
	t1 := s2 + float64(q6*r4)
	p := t0 + float64(t1*r8)
	return scale2(p, int(k))
}

// scale2 is p·2^k for p in [0.5, 2) and k in [-1075, 1024], the range detExp
// gives it. Multiplying by a power of two is exact unless the result is
// subnormal, where the one multiplication that can round rounds the same way
// on every machine (IEEE 754 round to nearest even).
func scale2(p float64, k int) float64 {
	switch {
	case k > 1023:
		return float64(p*2) * pow2(k-1)
	case k < -1022:
		return float64(p*pow2(k+53)) * 0x1p-53
	}
	return p * pow2(k)
}

// pow2 is 2^k for k in [-1022, 1023], built from its bits.
func pow2(k int) float64 { return math.Float64frombits(uint64(k+1023) << 52) }

// detTanh is tanh(x), bit-identical on every architecture: 1 - 2/(e^{2|x|}+1)
// with the sign of x. Absolute error below 1e-15.
func detTanh(x float64) float64 {
	if x != x {
		return x
	}
	a := math.Abs(x)
	var t float64
	if a > 20 {
		t = 1 // 1 - 2/(e^40+1) rounds to 1
	} else {
		t = 1 - 2/(detExp(2*a)+1)
	}
	if x < 0 {
		return -t
	}
	return t
}

// finite reports whether x is neither NaN nor ±Inf.
func finite(x float64) bool { return x-x == 0 }

// finite32 reports whether x is neither NaN nor ±Inf.
func finite32(x float32) bool { return x-x == 0 }
