package router

import (
	"encoding/binary"
	"math"
	"slices"
	"sort"
)

// oracle is a deliberately plain implementation of doc.go for the property
// tests: full sorts instead of heaps, maps of slices instead of offsets, no
// reuse. It shares nothing with route.go but the spec (and the matmul
// order, which it recomputes with the naive triple loop).
type oracle struct {
	k            int
	probs        []float32
	invalid      []bool
	assigned     [][]int // experts that picked token i (Expert-Choice)
	tokenExperts [][]int
	tokenGates   [][]float32
	status       []TokenStatus
	expertTokens [][]int32
	coverage     []float64
	stats        Stats
}

func runOracle(cfg LayerConfig, dim int, wg, emb []float32, n int) *oracle {
	E := cfg.Experts
	o := &oracle{k: cfg.Capacity(n)}
	logits := make([]float32, n*E)
	naiveGateMatmul(logits, emb, wg, n, dim, E)
	o.probs = make([]float32, n*E)
	o.invalid = make([]bool, n)
	valid := 0
	var entropy float64
	for i := 0; i < n; i++ {
		row := logits[i*E : (i+1)*E]
		bad := false
		for _, v := range row {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				bad = true
			}
		}
		if bad {
			o.invalid[i] = true
			for e := 0; e < E; e++ {
				o.probs[i*E+e] = float32(math.NaN())
			}
			continue
		}
		valid++
		m := slices.Max(row)
		xs := make([]float32, E)
		qs := make([]float32, E)
		var s float64
		for e, v := range row {
			xs[e] = v - m
			qs[e] = exp32(xs[e])
			s += float64(qs[e])
		}
		var h float64
		for e := range qs {
			o.probs[i*E+e] = float32(float64(qs[e]) * (1 / s))
			if qs[e] > 0 {
				h += float64(float64(qs[e]) * float64(xs[e]))
			}
		}
		entropy += math.Log(s) - float64((1/s)*h)
	}
	if valid > 0 {
		o.stats.Entropy = entropy / float64(valid)
	}
	o.stats.Invalid = n - valid
	p := func(i, e int) float32 { return o.probs[i*E+e] }

	// Expert-Choice with a full stable sort per expert.
	o.assigned = make([][]int, n)
	for e := 0; e < E; e++ {
		var toks []int
		for i := 0; i < n; i++ {
			if !o.invalid[i] {
				toks = append(toks, i)
			}
		}
		sort.SliceStable(toks, func(a, b int) bool { return p(toks[a], e) > p(toks[b], e) })
		for _, i := range toks[:min(o.k, len(toks))] {
			o.assigned[i] = append(o.assigned[i], e)
		}
	}

	// Top-P.
	o.tokenExperts = make([][]int, n)
	o.tokenGates = make([][]float32, n)
	o.status = make([]TokenStatus, n)
	o.coverage = make([]float64, n)
	load := make([]int, E)
	for i := 0; i < n; i++ {
		if o.invalid[i] {
			o.status[i] = StatusInvalid
			continue
		}
		ex := slices.Clone(o.assigned[i])
		sort.SliceStable(ex, func(a, b int) bool { return p(i, ex[a]) > p(i, ex[b]) })
		var cum float64
		m := 0
		for _, e := range ex {
			cum += float64(p(i, e))
			m++
			if cum >= cfg.P {
				break
			}
		}
		if cfg.MaxExpertsPerToken > 0 && m > cfg.MaxExpertsPerToken {
			m = cfg.MaxExpertsPerToken
		}
		o.tokenExperts[i] = ex[:m]
		for _, e := range ex[:m] {
			load[e]++
		}
	}
	// Undercovered.
	for i := 0; i < n; i++ {
		if o.invalid[i] || len(o.assigned[i]) > 0 {
			continue
		}
		o.stats.Undercovered++
		o.status[i] = StatusUndercovered
		if cfg.Undercovered != PolicyArgmax {
			continue
		}
		best := -1
		for e := 0; e < E; e++ {
			if load[e] < o.k && (best < 0 || p(i, e) > p(i, best)) {
				best = e
			}
		}
		if best >= 0 {
			load[best]++
			o.tokenExperts[i] = []int{best}
			o.status[i] = StatusArgmax
			o.stats.UndercoveredAssigned++
		}
	}
	// Gates, coverage, expert lists, stats.
	o.expertTokens = make([][]int32, E)
	total := 0
	for i := 0; i < n; i++ {
		ex := o.tokenExperts[i]
		if len(ex) == 0 {
			continue
		}
		var cum float64
		for _, e := range ex {
			cum += float64(p(i, e))
		}
		o.coverage[i] = cum
		g := make([]float32, len(ex))
		for j, e := range ex {
			if cum > 0 {
				g[j] = float32(float64(p(i, e)) / cum)
			} else {
				g[j] = float32(1 / float64(len(ex)))
			}
		}
		o.tokenGates[i] = g
		o.stats.PSaturation[min(9, int(math.Floor(10*cum)))]++
		for _, e := range ex {
			o.expertTokens[e] = append(o.expertTokens[e], int32(i))
		}
		total += len(ex)
	}
	if n > 0 {
		o.stats.AvgExpertsPerToken = float64(total) / float64(n)
		o.stats.CapacityUtilization = float64(total) / float64(E*o.k)
	}
	if total > 0 {
		mean := float64(total) / float64(E)
		var v float64
		for e := 0; e < E; e++ {
			d := float64(len(o.expertTokens[e])) - mean
			v += d * d
		}
		o.stats.LoadBalanceRatio = math.Sqrt(v/float64(E)) / mean
	}
	for e := 0; e < E; e++ {
		o.stats.MaxExpertLoad = max(o.stats.MaxExpertLoad, len(o.expertTokens[e]))
	}
	return o
}

// canonical encodes everything Route produced, for byte-for-byte
// comparisons of two runs.
func canonical(a *Assignment) []byte {
	var b []byte
	u64 := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	f64 := func(v float64) { u64(math.Float64bits(v)) }
	u64(a.RouterVersion)
	u64(uint64(a.Layer))
	u64(uint64(a.N))
	u64(uint64(a.E))
	u64(uint64(a.K))
	for _, v := range a.Probs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	for i := 0; i < a.N; i++ {
		ex, g := a.TokenExperts(i)
		b = append(b, byte(a.Status(i)), byte(len(ex)))
		for j := range ex {
			b = binary.LittleEndian.AppendUint16(b, uint16(ex[j]))
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(g[j]))
		}
	}
	for e := 0; e < a.E; e++ {
		ts := a.ExpertTokens(e)
		u64(uint64(len(ts)))
		for _, t := range ts {
			b = binary.LittleEndian.AppendUint32(b, uint32(t))
		}
	}
	s := a.Stats
	f64(s.AvgExpertsPerToken)
	f64(s.LoadBalanceRatio)
	f64(s.CapacityUtilization)
	f64(s.Entropy)
	for _, c := range s.PSaturation {
		u64(uint64(c))
	}
	u64(uint64(s.Undercovered))
	u64(uint64(s.UndercoveredAssigned))
	u64(uint64(s.Invalid))
	u64(uint64(s.MaxExpertLoad))
	return b
}
