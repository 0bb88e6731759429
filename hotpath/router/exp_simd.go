//go:build goexperiment.simd && amd64

package router

import (
	"math"
	"simd/archsimd"
)

// expRowFast is expInto on AVX-512 when GOEXPERIMENT=simd: eight float64
// lanes run exactly the operations of expInto (same grouping, each product
// rounded, no FMA, VCVTPD2PS rounding to nearest like CVTSD2SS), so the
// bits are the same; TestExpVectorBitIdentical checks it over a million
// inputs. A short last chunk is loaded zero-filled and stored partially.
func expRowFast(dst, src []float32) {
	if simdKernel != "avx512" {
		expInto(dst, src)
		return
	}
	var (
		log2e   = archsimd.BroadcastFloat64x8(expLog2e)
		shifter = archsimd.BroadcastFloat64x8(expShifter)
		ln2Hi   = archsimd.BroadcastFloat64x8(expLn2Hi)
		ln2Lo   = archsimd.BroadcastFloat64x8(expLn2Lo)
		cutoff  = archsimd.BroadcastFloat64x8(expCutoff)
		one     = archsimd.BroadcastFloat64x8(1)
		c2      = archsimd.BroadcastFloat64x8(expC2)
		c3      = archsimd.BroadcastFloat64x8(expC3)
		c4      = archsimd.BroadcastFloat64x8(expC4)
		c5      = archsimd.BroadcastFloat64x8(expC5)
		c6      = archsimd.BroadcastFloat64x8(expC6)
		c7      = archsimd.BroadcastFloat64x8(expC7)
		c8      = archsimd.BroadcastFloat64x8(expC8)
		c9      = archsimd.BroadcastFloat64x8(expC9)
		c10     = archsimd.BroadcastFloat64x8(expC10)
		c11     = archsimd.BroadcastFloat64x8(expC11)
		bias    = archsimd.BroadcastInt64x8(1023 - int64(math.Float64bits(expShifter)))
	)
	dst = dst[:len(src)]
	for j := 0; j < len(src); j += 8 {
		hi := min(j+8, len(src))
		var x32 archsimd.Float32x8
		if hi-j == 8 {
			x32 = archsimd.LoadFloat32x8Slice(src[j:])
		} else {
			x32 = archsimd.LoadFloat32x8SlicePart(src[j:hi])
		}
		xd := x32.ConvertToFloat64()
		t := xd.Mul(log2e).Add(shifter)
		k := t.Sub(shifter)
		r := xd.Sub(k.Mul(ln2Hi)).Sub(k.Mul(ln2Lo))
		r2 := r.Mul(r)
		r4 := r2.Mul(r2)
		r8 := r4.Mul(r4)
		q01 := one.Add(r)
		q23 := c2.Add(c3.Mul(r))
		q45 := c4.Add(c5.Mul(r))
		q67 := c6.Add(c7.Mul(r))
		q89 := c8.Add(c9.Mul(r))
		qab := c10.Add(c11.Mul(r))
		q03 := q01.Add(r2.Mul(q23))
		q47 := q45.Add(r2.Mul(q67))
		q8b := q89.Add(r2.Mul(qab))
		q07 := q03.Add(r4.Mul(q47))
		p := q07.Add(r8.Mul(q8b))
		scale := t.AsInt64x8().Add(bias).ShiftAllLeft(52).AsFloat64x8() // 2^k
		q := p.Mul(scale).Masked(xd.GreaterEqual(cutoff)).ConvertToFloat32()
		if hi-j == 8 {
			q.StoreSlice(dst[j:])
		} else {
			q.StoreSlicePart(dst[j:hi])
		}
	}
}
