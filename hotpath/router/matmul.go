package router

// gateMatmul writes out[i*E+e] = Σ_d x[i*D+d]·wt[e*D+d] for n tokens, with
// wt the gate matrix transposed to E×D (each expert's weights contiguous).
//
// Every output is one accumulator that starts at +0 and adds the rounded
// products in increasing d (doc.go, step 1): s = s + float32(a*b), where the
// explicit conversion forbids fusing into an FMA. Blocking only decides which
// accumulators live in registers together, never the order of a sum, so the
// result is bit-identical to naiveGateMatmul for every n, D and E.
//
// The main kernel takes 4 tokens × 2 experts: 8 independent accumulator
// chains (enough to hide the 4-cycle add latency on 2 FP ports), 6 loads
// per 16 flops, and 14 live floats, which fit the 16 SSE registers the Go
// compiler allocates on amd64. Measured on the development machine
// (router_bench_test.go): 4×2 and 2×4 dot kernels run at the scalar
// ceiling (about 2 flops per cycle); 4×4 spills and runs at half speed;
// the 4-token axpy form (accumulators in memory) at 60%.
func gateMatmul(out, x, wt []float32, n, D, E int) {
	i := 0
	for ; i+4 <= n; i += 4 {
		x0 := x[i*D : i*D+D]
		x1 := x[(i+1)*D : (i+1)*D+D]
		x2 := x[(i+2)*D : (i+2)*D+D]
		x3 := x[(i+3)*D : (i+3)*D+D]
		o0 := out[i*E : i*E+E]
		o1 := out[(i+1)*E : (i+1)*E+E]
		o2 := out[(i+2)*E : (i+2)*E+E]
		o3 := out[(i+3)*E : (i+3)*E+E]
		e := 0
		for ; e+2 <= E; e += 2 {
			w0 := wt[e*D : e*D+D]
			w1 := wt[(e+1)*D : (e+1)*D+D]
			// Equal lengths let the compiler drop the bounds checks.
			x1 := x1[:len(x0)]
			x2 := x2[:len(x0)]
			x3 := x3[:len(x0)]
			w0 = w0[:len(x0)]
			w1 = w1[:len(x0)]
			var s00, s01, s10, s11, s20, s21, s30, s31 float32
			for d, a := range x0 {
				c0, c1 := w0[d], w1[d]
				s00 = s00 + float32(a*c0)
				s01 = s01 + float32(a*c1)
				b := x1[d]
				s10 = s10 + float32(b*c0)
				s11 = s11 + float32(b*c1)
				b = x2[d]
				s20 = s20 + float32(b*c0)
				s21 = s21 + float32(b*c1)
				b = x3[d]
				s30 = s30 + float32(b*c0)
				s31 = s31 + float32(b*c1)
			}
			o0[e], o0[e+1] = s00, s01
			o1[e], o1[e+1] = s10, s11
			o2[e], o2[e+1] = s20, s21
			o3[e], o3[e+1] = s30, s31
		}
		if e < E { // odd E: the last expert, 4 tokens
			w0 := wt[e*D : e*D+D]
			x1 := x1[:len(w0)]
			x2 := x2[:len(w0)]
			x3 := x3[:len(w0)]
			x0 := x0[:len(w0)]
			var s0, s1, s2, s3 float32
			for d, c := range w0 {
				s0 = s0 + float32(x0[d]*c)
				s1 = s1 + float32(x1[d]*c)
				s2 = s2 + float32(x2[d]*c)
				s3 = s3 + float32(x3[d]*c)
			}
			o0[e], o1[e], o2[e], o3[e] = s0, s1, s2, s3
		}
	}
	for ; i < n; i++ { // the last n%4 tokens, one at a time
		x0 := x[i*D : i*D+D]
		o0 := out[i*E : i*E+E]
		for e := range o0 {
			w0 := wt[e*D : e*D+D]
			w0 = w0[:len(x0)]
			var s float32
			for d, a := range x0 {
				s = s + float32(a*w0[d])
			}
			o0[e] = s
		}
	}
}

// simdPad is the spare capacity, in floats, kept after the gate matrix, the
// probabilities and the shifted logits. The vector kernels' partial loads
// and stores (archsimd's *SlicePart) are masked, so they never touch memory
// past the slice, but they form a pointer to a whole vector, which the
// -race build's pointer checks (checkptr) require to lie inside the
// allocation.
const simdPad = 16

// naiveGateMatmul is the textbook triple loop over the D×E gate matrix w,
// kept as the reference the blocked kernel must equal bit for bit and as
// the baseline of BenchmarkGateMatmulNaive.
func naiveGateMatmul(out, x, w []float32, n, D, E int) {
	for i := 0; i < n; i++ {
		for e := 0; e < E; e++ {
			var s float32
			for d := 0; d < D; d++ {
				s = s + float32(x[i*D+d]*w[d*E+e])
			}
			out[i*E+e] = s
		}
	}
}
