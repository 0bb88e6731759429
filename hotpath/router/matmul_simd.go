//go:build goexperiment.simd && amd64

package router

import "simd/archsimd"

// With GOEXPERIMENT=simd on amd64 the gate matmul runs on vector registers:
// lanes are experts (8 per AVX2 register), and
// each lane does exactly what the portable kernel does for its (token,
// expert) pair: acc = acc + round(x·w), d ascending, from +0. VMULPS and
// VADDPS round like their scalar forms and the compiler does not fuse
// Mul().Add() into an FMA (the Go API exposes MulAdd separately), so the
// results are bit-identical to gateMatmul; TestGateMatmulBitIdentical runs
// every available kernel against the naive loop.
var simdKernel = func() string {
	switch {
	case archsimd.X86.AVX512():
		return "avx512"
	case archsimd.X86.AVX2():
		return "avx2"
	}
	return "portable"
}()

// gateMatmulFast is the kernel Route uses: w is the D×E gate matrix, wt
// its E×D transpose (for the portable kernel).
func gateMatmulFast(out, x, w, wt []float32, n, D, E int) {
	switch simdKernel {
	case "avx512", "avx2":
		gateMatmulAVX2(out, x, w, n, D, E)
	default:
		gateMatmul(out, x, wt, n, D, E)
	}
}

// simdKernels lists the kernels this machine can run, for the tests.
func simdKernels() map[string]func(out, x, w, wt []float32, n, D, E int) {
	k := map[string]func(out, x, w, wt []float32, n, D, E int){}
	if archsimd.X86.AVX2() {
		k["avx2"] = func(out, x, w, _ []float32, n, D, E int) { gateMatmulAVX2(out, x, w, n, D, E) }
	}
	return k
}

// gateMatmulAVX2: 8 tokens × 8 experts per block, one accumulator
// register per token (16 registers: 8 accumulators, the weights and a
// broadcast); the last expert chunk uses partial loads and stores.
//
// There is no AVX-512 matmul: AVX-512 machines run this kernel too. One
// existed (16 experts a register), but this project's machines, CI's
// included, have AVX2 and no AVX-512, so `make test` could never run it,
// and it was a second copy of this loop: a vector type cannot be a type
// parameter (a generic kernel over Float32x8/Float32x16 stops the Go 1.26
// compiler) and the accumulators must be eight variables (held in an
// array they live in memory: 2.5× slower, BenchmarkGateMatmul). Bring it
// back with a machine that tests it.
func gateMatmulAVX2(out, x, w []float32, n, D, E int) {
	for e0 := 0; e0 < E; e0 += 8 {
		ew := min(8, E-e0)
		i := 0
		for ; i+8 <= n; i += 8 {
			var a0, a1, a2, a3, a4, a5, a6, a7 archsimd.Float32x8
			x0 := x[i*D : i*D+D]
			x1 := x[(i+1)*D : (i+1)*D+D]
			x2 := x[(i+2)*D : (i+2)*D+D]
			x3 := x[(i+3)*D : (i+3)*D+D]
			x4 := x[(i+4)*D : (i+4)*D+D]
			x5 := x[(i+5)*D : (i+5)*D+D]
			x6 := x[(i+6)*D : (i+6)*D+D]
			x7 := x[(i+7)*D : (i+7)*D+D]
			for d := range x0 {
				var wv archsimd.Float32x8
				if ew == 8 {
					wv = archsimd.LoadFloat32x8Slice(w[d*E+e0:])
				} else {
					wv = archsimd.LoadFloat32x8SlicePart(w[d*E+e0 : d*E+e0+ew])
				}
				a0 = a0.Add(archsimd.BroadcastFloat32x8(x0[d]).Mul(wv))
				a1 = a1.Add(archsimd.BroadcastFloat32x8(x1[d]).Mul(wv))
				a2 = a2.Add(archsimd.BroadcastFloat32x8(x2[d]).Mul(wv))
				a3 = a3.Add(archsimd.BroadcastFloat32x8(x3[d]).Mul(wv))
				a4 = a4.Add(archsimd.BroadcastFloat32x8(x4[d]).Mul(wv))
				a5 = a5.Add(archsimd.BroadcastFloat32x8(x5[d]).Mul(wv))
				a6 = a6.Add(archsimd.BroadcastFloat32x8(x6[d]).Mul(wv))
				a7 = a7.Add(archsimd.BroadcastFloat32x8(x7[d]).Mul(wv))
			}
			a0.StoreSlicePart(out[i*E+e0 : i*E+e0+ew])
			a1.StoreSlicePart(out[(i+1)*E+e0 : (i+1)*E+e0+ew])
			a2.StoreSlicePart(out[(i+2)*E+e0 : (i+2)*E+e0+ew])
			a3.StoreSlicePart(out[(i+3)*E+e0 : (i+3)*E+e0+ew])
			a4.StoreSlicePart(out[(i+4)*E+e0 : (i+4)*E+e0+ew])
			a5.StoreSlicePart(out[(i+5)*E+e0 : (i+5)*E+e0+ew])
			a6.StoreSlicePart(out[(i+6)*E+e0 : (i+6)*E+e0+ew])
			a7.StoreSlicePart(out[(i+7)*E+e0 : (i+7)*E+e0+ew])
		}
		for ; i < n; i++ {
			var a0 archsimd.Float32x8
			x0 := x[i*D : i*D+D]
			for d, xv := range x0 {
				wv := archsimd.LoadFloat32x8SlicePart(w[d*E+e0 : d*E+e0+ew])
				a0 = a0.Add(archsimd.BroadcastFloat32x8(xv).Mul(wv))
			}
			a0.StoreSlicePart(out[i*E+e0 : i*E+e0+ew])
		}
	}
}
