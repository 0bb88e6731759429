package router

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The benchmark shape of the brief and of testdata/reference.py --bench:
// n=256 tokens, D=64, E=16, c=2, p=0.65.
const benchN, benchD, benchE = 256, 64, 16

const benchFlops = 2 * benchN * benchD * benchE // one multiply and one add per term

// benchLayer draws W_g ~ 0.25·N(0,1) and emb ~ N(0,1), the distributions of
// reference.py --bench (logits with standard deviation 2).
func benchLayer(b *testing.B, E int, c, p float64) (*Layer, []float32, *Assignment) {
	r := rand.New(rand.NewPCG(42, 3))
	wg := make([]float32, benchD*E)
	for j := range wg {
		wg[j] = float32(0.25 * r.NormFloat64())
	}
	l, err := NewLayer(LayerConfig{Experts: E, CapacityFactor: c, P: p}, benchD, wg)
	if err != nil {
		b.Fatal(err)
	}
	return l, randEmb(benchN, benchD, 42), NewAssignment(benchN, E)
}

// BenchmarkRoute256x64x16 is the whole layer: matmul, softmax,
// Expert-Choice, Top-P, outputs and statistics. GFLOP/s counts only the
// matmul's flops over the whole routing time.
func BenchmarkRoute256x64x16(b *testing.B) {
	l, emb, a := benchLayer(b, benchE, 2, 0.65)
	b.ReportAllocs()
	b.SetBytes(int64(4 * len(emb)))
	for b.Loop() {
		if err := l.Route(emb, benchN, a); err != nil {
			b.Fatal(err)
		}
	}
	reportPerToken(b, benchFlops)
}

// BenchmarkRouteSeedLayers routes the seed's three layers (16/12/8 experts,
// c 2.0/1.8/1.6, p 0.65/0.6/0.55) on the same 256×64 batch.
func BenchmarkRouteSeedLayers(b *testing.B) {
	for _, s := range []struct {
		name string
		E    int
		c, p float64
	}{{"layer0_e16", 16, 2.0, 0.65}, {"layer1_e12", 12, 1.8, 0.6}, {"layer2_e8", 8, 1.6, 0.55}} {
		b.Run(s.name, func(b *testing.B) {
			l, emb, a := benchLayer(b, s.E, s.c, s.p)
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Route(emb, benchN, a); err != nil {
					b.Fatal(err)
				}
			}
			reportPerToken(b, 2*benchN*benchD*s.E)
		})
	}
}

// BenchmarkGateMatmul is the gate matmul alone: the portable 4×2 kernel,
// and with GOEXPERIMENT=simd the vector kernels this CPU runs (Route uses
// the widest). %core-peak compares with vectorPeakPerCore.
func BenchmarkGateMatmul(b *testing.B) {
	kernels := map[string]func(out, x, w, wt []float32, n, D, E int){
		"portable": func(out, x, _, wt []float32, n, D, E int) { gateMatmul(out, x, wt, n, D, E) },
	}
	for name, k := range simdKernels() {
		kernels[name] = k
	}
	for _, name := range []string{"portable", "avx2", "avx512"} {
		kernel, ok := kernels[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			l, emb, a := benchLayer(b, benchE, 2, 0.65)
			out := a.probsBuf[:benchN*benchE]
			b.ReportAllocs()
			for b.Loop() {
				kernel(out, emb, l.w, l.wt, benchN, benchD, benchE)
			}
			reportPerToken(b, benchFlops)
			if peak := vectorPeakPerCore(); peak > 0 {
				gflops := float64(benchFlops) * float64(b.N) / b.Elapsed().Seconds() / 1e9
				b.ReportMetric(100*gflops/peak, "%core-peak")
			}
		})
	}
}

// BenchmarkGateMatmulNaive is the textbook triple loop over the D×E
// matrix: the baseline of the blocked kernel (same results, bit for bit).
func BenchmarkGateMatmulNaive(b *testing.B) {
	l, emb, a := benchLayer(b, benchE, 2, 0.65)
	out := a.probsBuf[:benchN*benchE]
	b.ReportAllocs()
	for b.Loop() {
		naiveGateMatmul(out, emb, l.w, benchN, benchD, benchE)
	}
	reportPerToken(b, benchFlops)
}

// BenchmarkSoftmax is step 2-3 alone (one float64 exp per probability).
func BenchmarkSoftmax(b *testing.B) {
	l, emb, a := benchLayer(b, benchE, 2, 0.65)
	logits := make([]float32, benchN*benchE)
	gateMatmul(logits, emb, l.wt, benchN, benchD, benchE)
	p := a.probsBuf[:benchN*benchE]
	b.ReportAllocs()
	for b.Loop() {
		copy(p, logits)
		softmaxRows(p, benchN, benchE, a.status[:benchN], a.xs)
	}
	reportPerToken(b, 0)
}

// reportPerToken adds ns/token and, when flops > 0, GFLOP/s.
func reportPerToken(b *testing.B, flops int) {
	sec := b.Elapsed().Seconds()
	b.ReportMetric(sec*1e9/float64(b.N)/benchN, "ns/token")
	if flops > 0 {
		b.ReportMetric(float64(flops)*float64(b.N)/sec/1e9, "GFLOP/s")
	}
}

// vectorPeakPerCore estimates one core's float32 peak in GFLOP/s from
// /proc/cpuinfo: nominal MHz × lanes (16 with avx512f, 8 with avx, else 4)
// × 2 when fma is present × 2 FP ports. 0 when /proc/cpuinfo is missing.
// Under a hypervisor "cpu MHz" is the nominal clock (turbo may run
// faster). The bit-exact kernels cannot use FMA, so half of this peak is
// their real ceiling.
func vectorPeakPerCore() float64 {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	var mhz float64
	var flags string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() && (mhz == 0 || flags == "") {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "cpu MHz":
			mhz, _ = strconv.ParseFloat(strings.TrimSpace(v), 64)
		case "flags":
			flags = " " + v + " "
		}
	}
	lanes := 4.0
	switch {
	case strings.Contains(flags, " avx512f "):
		lanes = 16
	case strings.Contains(flags, " avx "):
		lanes = 8
	}
	fma := 1.0
	if strings.Contains(flags, " fma ") {
		fma = 2
	}
	return mhz / 1000 * lanes * fma * 2
}
