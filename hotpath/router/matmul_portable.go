//go:build !(goexperiment.simd && amd64)

package router

// Without GOEXPERIMENT=simd (or off amd64) Route uses the portable kernel.
const simdKernel = "portable"

func gateMatmulFast(out, x, _, wt []float32, n, D, E int) { gateMatmul(out, x, wt, n, D, E) }

func simdKernels() map[string]func(out, x, w, wt []float32, n, D, E int) { return nil }
