package router

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomCase draws a batch from the property ranges of the brief: n in
// 1..300, E in 1..32, D in 1..96, c in [0.5, 4], p in (0, 1], cap 0..4,
// both policies. A third of the batches duplicate rows (ties between
// tokens) and a sixth duplicate gate columns (ties between experts).
func randomCase(r *rand.Rand) (cfg LayerConfig, dim int, wg, emb []float32, n int) {
	n = 1 + r.IntN(300)
	E := 1 + r.IntN(32)
	dim = 1 + r.IntN(96)
	cfg = LayerConfig{
		Layer:              r.IntN(3),
		Version:            r.Uint64(),
		Experts:            E,
		CapacityFactor:     0.5 + 3.5*r.Float64(),
		P:                  1 - r.Float64(), // (0, 1]
		MaxExpertsPerToken: r.IntN(5),
		Undercovered:       Policy(r.IntN(2)),
	}
	if r.IntN(8) == 0 {
		cfg.P = 1
	}
	scale := []float64{0.01, 0.3, 1, 3}[r.IntN(4)]
	wg = make([]float32, dim*E)
	for j := range wg {
		wg[j] = float32(r.NormFloat64() * scale)
	}
	if E > 1 && r.IntN(6) == 0 { // duplicate an expert's column
		src, dst := r.IntN(E), r.IntN(E)
		for d := 0; d < dim; d++ {
			wg[d*E+dst] = wg[d*E+src]
		}
	}
	emb = make([]float32, n*dim)
	for j := range emb {
		emb[j] = float32(r.NormFloat64())
	}
	if r.IntN(3) == 0 { // duplicate token rows
		for c := r.IntN(n + 1); c > 0; c-- {
			src, dst := r.IntN(n), r.IntN(n)
			copy(emb[dst*dim:(dst+1)*dim], emb[src*dim:(src+1)*dim])
		}
	}
	return cfg, dim, wg, emb, n
}

func TestPropertyRandomBatches(t *testing.T) {
	r := rand.New(rand.NewPCG(2024, 7))
	a := NewAssignment(300, 32)
	b := NewAssignment(300, 32)
	iters := 400
	if testing.Short() {
		iters = 100
	}
	// How often the interesting branches were taken: a generator that
	// never reaches them would make the test vacuous.
	var undercovered, argmaxed, capped, fullRoute, multi int
	defer func() {
		t.Logf("cases: undercovered %d, argmax-assigned %d; tokens: cap binding %d, p never reached %d, multi-expert %d",
			undercovered, argmaxed, capped, fullRoute, multi)
		if undercovered == 0 || argmaxed == 0 || capped == 0 || fullRoute == 0 || multi == 0 {
			t.Errorf("the generator missed a branch")
		}
	}()
	for it := 0; it < iters; it++ {
		cfg, dim, wg, emb, n := randomCase(r)
		l, err := NewLayer(cfg, dim, wg)
		if err != nil {
			t.Fatalf("case %d: %v", it, err)
		}
		if err := l.Route(emb, n, a); err != nil {
			t.Fatalf("case %d: %v", it, err)
		}
		checkInvariants(t, it, l, a)
		checkAgainstOracle(t, it, cfg, dim, wg, emb, n, a)
		if a.Stats.Undercovered > 0 {
			undercovered++
		}
		if a.Stats.UndercoveredAssigned > 0 {
			argmaxed++
		}
		for i := 0; i < n; i++ {
			ex, _ := a.TokenExperts(i)
			var cum float64
			for _, e := range ex {
				cum += float64(a.Probs[i*cfg.Experts+int(e)])
			}
			if len(ex) > 1 {
				multi++
			}
			if a.Status(i) == StatusRouted && cum < cfg.P {
				if len(ex) == cfg.MaxExpertsPerToken {
					capped++
				} else {
					fullRoute++
				}
			}
		}
		// Same input, a second Assignment that last held another batch: the
		// same bytes.
		if err := l.Route(emb[:dim], 1, b); err != nil {
			t.Fatal(err)
		}
		if err := l.Route(emb, n, b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(canonical(a), canonical(b)) {
			t.Fatalf("case %d: two runs on the same input differ", it)
		}
	}
}

// checkInvariants asserts what must hold for any batch, without knowing
// the expected routing.
func checkInvariants(t *testing.T, it int, l *Layer, a *Assignment) {
	t.Helper()
	cfg := l.Config()
	n, E, K := a.N, a.E, a.K
	if K != cfg.Capacity(n) || K < 1 || K > n {
		t.Fatalf("case %d: K=%d, want Capacity(%d)=%d in [1, n]", it, K, n, cfg.Capacity(n))
	}
	// Expert buckets: at most K tokens, increasing, and agreeing with the
	// token lists.
	pairs := 0
	seen := make(map[[2]int]bool)
	maxLoad := 0
	for e := 0; e < E; e++ {
		ts := a.ExpertTokens(e)
		if len(ts) > K {
			t.Fatalf("case %d: expert %d holds %d tokens > K=%d", it, e, len(ts), K)
		}
		maxLoad = max(maxLoad, len(ts))
		for j, tok := range ts {
			if j > 0 && ts[j-1] >= tok {
				t.Fatalf("case %d: expert %d tokens not increasing: %v", it, e, ts)
			}
			seen[[2]int{int(tok), e}] = true
		}
		pairs += len(ts)
	}
	if maxLoad != a.Stats.MaxExpertLoad {
		t.Fatalf("case %d: MaxExpertLoad %d, want %d", it, a.Stats.MaxExpertLoad, maxLoad)
	}
	if pairs != a.Pairs() {
		t.Fatalf("case %d: expert lists hold %d pairs, token lists %d", it, pairs, a.Pairs())
	}
	undercovered, assigned, invalid := 0, 0, 0
	for i := 0; i < n; i++ {
		ex, g := a.TokenExperts(i)
		switch a.Status(i) {
		case StatusInvalid:
			invalid++
		case StatusUndercovered:
			undercovered++
		case StatusArgmax:
			undercovered++
			assigned++
			if len(ex) != 1 || g[0] != 1 {
				t.Fatalf("case %d token %d: argmax token has %v %v", it, i, ex, g)
			}
		}
		if (a.Status(i) == StatusRouted || a.Status(i) == StatusArgmax) != (len(ex) > 0) {
			t.Fatalf("case %d token %d: status %v with %d experts", it, i, a.Status(i), len(ex))
		}
		if cfg.MaxExpertsPerToken > 0 && len(ex) > cfg.MaxExpertsPerToken {
			t.Fatalf("case %d token %d: %d experts > cap %d", it, i, len(ex), cfg.MaxExpertsPerToken)
		}
		var sum float64
		for j, e := range ex {
			if !seen[[2]int{i, int(e)}] {
				t.Fatalf("case %d: token %d lists expert %d, whose bucket lacks it", it, i, e)
			}
			if j > 0 {
				pPrev, pCur := a.Probs[i*E+int(ex[j-1])], a.Probs[i*E+int(e)]
				if pPrev < pCur || (pPrev == pCur && ex[j-1] > e) {
					t.Fatalf("case %d token %d: experts %v not by descending probability", it, i, ex)
				}
			}
			sum += float64(g[j])
		}
		if len(ex) > 0 && math.Abs(sum-1) > 1e-5*float64(len(ex)) {
			t.Fatalf("case %d token %d: gates %v sum to %v", it, i, g, sum)
		}
	}
	if undercovered != a.Stats.Undercovered || assigned != a.Stats.UndercoveredAssigned || invalid != a.Stats.Invalid {
		t.Fatalf("case %d: counted undercovered/assigned/invalid %d/%d/%d, stats %+v", it, undercovered, assigned, invalid, a.Stats)
	}
	if cfg.Undercovered == PolicyAbstain && assigned != 0 {
		t.Fatalf("case %d: abstain policy assigned %d undercovered tokens", it, assigned)
	}
	var hist uint32
	for _, c := range a.Stats.PSaturation {
		hist += c
	}
	if int(hist) != n-undercovered-invalid+assigned {
		t.Fatalf("case %d: PSaturation counts %d tokens, %d routed", it, hist, n-undercovered-invalid+assigned)
	}
}

// checkAgainstOracle compares everything with the plain implementation.
func checkAgainstOracle(t *testing.T, it int, cfg LayerConfig, dim int, wg, emb []float32, n int, a *Assignment) {
	t.Helper()
	o := runOracle(cfg, dim, wg, emb, n)
	E := cfg.Experts
	if a.K != o.k {
		t.Fatalf("case %d: K %d, oracle %d", it, a.K, o.k)
	}
	for j := range o.probs {
		if math.Float32bits(a.Probs[j]) != math.Float32bits(o.probs[j]) {
			t.Fatalf("case %d: prob[%d][%d] %v, oracle %v", it, j/E, j%E, a.Probs[j], o.probs[j])
		}
	}
	for i := 0; i < n; i++ {
		ex, g := a.TokenExperts(i)
		got := make([]int, len(ex))
		for j, e := range ex {
			got[j] = int(e)
		}
		if !slices.Equal(got, o.tokenExperts[i]) || !slices.Equal(g, o.tokenGates[i]) || a.Status(i) != o.status[i] {
			t.Fatalf("case %d token %d (assigned %v, probs %v, p=%v cap=%d): got %v %v %v, oracle %v %v %v",
				it, i, o.assigned[i], a.Probs[i*E:(i+1)*E], cfg.P, cfg.MaxExpertsPerToken,
				got, g, a.Status(i), o.tokenExperts[i], o.tokenGates[i], o.status[i])
		}
		// The kept experts are the shortest prefix of the assigned ones
		// (descending probability) reaching p, or all of them, capped.
		if o.status[i] == StatusRouted {
			prefix := 0.0
			for j := range ex {
				if j < len(ex)-1 && prefix+float64(a.Probs[i*E+int(ex[j])]) >= cfg.P {
					t.Fatalf("case %d token %d: prefix of %d experts already reaches p", it, i, j+1)
				}
				prefix += float64(a.Probs[i*E+int(ex[j])])
			}
			if prefix < cfg.P && len(ex) < len(o.assigned[i]) && len(ex) != cfg.MaxExpertsPerToken {
				t.Fatalf("case %d token %d: stopped at %v < p with experts left and no cap", it, i, prefix)
			}
		}
	}
	for e := 0; e < E; e++ {
		if !slices.Equal(a.ExpertTokens(e), o.expertTokens[e]) {
			t.Fatalf("case %d expert %d: tokens %v, oracle %v", it, e, a.ExpertTokens(e), o.expertTokens[e])
		}
	}
	s, w := a.Stats, o.stats
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-12*math.Max(1, math.Abs(y)) }
	if s.PSaturation != w.PSaturation || s.Undercovered != w.Undercovered || s.UndercoveredAssigned != w.UndercoveredAssigned ||
		s.Invalid != w.Invalid || s.MaxExpertLoad != w.MaxExpertLoad ||
		!near(s.AvgExpertsPerToken, w.AvgExpertsPerToken) || !near(s.LoadBalanceRatio, w.LoadBalanceRatio) ||
		!near(s.CapacityUtilization, w.CapacityUtilization) || !near(s.Entropy, w.Entropy) {
		t.Fatalf("case %d: stats %+v, oracle %+v", it, s, w)
	}
}

// TestUniformScores: with W_g = 0 every probability is 1/E, so every tie
// goes by index and the exact assignment is known in closed form.
func TestUniformScores(t *testing.T) {
	f := func(n, E, dim int, c, p float64, capE int, pol Policy) {
		t.Helper()
		cfg := LayerConfig{Experts: E, CapacityFactor: c, P: p, MaxExpertsPerToken: capE, Undercovered: pol}
		l, err := NewLayer(cfg, dim, make([]float32, dim*E))
		if err != nil {
			t.Fatal(err)
		}
		emb := make([]float32, n*dim)
		for j := range emb {
			emb[j] = float32(j%7) - 3
		}
		a := NewAssignment(n, E)
		if err := l.Route(emb, n, a); err != nil {
			t.Fatal(err)
		}
		k := cfg.Capacity(n)
		// Expert-Choice: every expert picks tokens 0..k-1. Top-P: those
		// tokens keep experts 0..m-1, m the shortest prefix of equal
		// probabilities reaching p (or all E), capped.
		pe := float32(1 / float64(E))
		m, cum := 0, 0.0
		for m < E {
			cum += float64(pe)
			m++
			if cum >= p {
				break
			}
		}
		if capE > 0 {
			m = min(m, capE)
		}
		want := make([][]int32, E)
		wantTok := make([][]int16, n)
		load := make([]int, E)
		for i := 0; i < k; i++ {
			for e := 0; e < m; e++ {
				wantTok[i] = append(wantTok[i], int16(e))
				want[e] = append(want[e], int32(i))
				load[e]++
			}
		}
		undercovered, assigned := n-k, 0
		if pol == PolicyArgmax {
			// Tokens k..n-1 fill the lowest experts with room, in order.
			e := 0
			for i := k; i < n; i++ {
				for e < E && load[e] >= k {
					e++
				}
				if e == E {
					break
				}
				wantTok[i] = []int16{int16(e)}
				want[e] = append(want[e], int32(i))
				load[e]++
				assigned++
			}
		}
		for i := 0; i < n; i++ {
			ex, g := a.TokenExperts(i)
			if !slices.Equal(ex, wantTok[i]) {
				t.Fatalf("n=%d E=%d c=%v p=%v cap=%d %v: token %d experts %v, want %v", n, E, c, p, capE, pol, i, ex, wantTok[i])
			}
			for _, gv := range g {
				if math.Abs(float64(gv)-1/float64(len(g))) > 1e-6 {
					t.Fatalf("token %d gates %v, want uniform", i, g)
				}
			}
		}
		for e := 0; e < E; e++ {
			if !slices.Equal(a.ExpertTokens(e), want[e]) {
				t.Fatalf("n=%d E=%d c=%v p=%v cap=%d %v: expert %d tokens %v, want %v", n, E, c, p, capE, pol, e, a.ExpertTokens(e), want[e])
			}
		}
		if a.Stats.Undercovered != undercovered || a.Stats.UndercoveredAssigned != assigned {
			t.Fatalf("stats %+v, want undercovered %d assigned %d", a.Stats, undercovered, assigned)
		}
		if math.Abs(a.Stats.Entropy-math.Log(float64(E))) > 1e-6 {
			t.Fatalf("entropy %v, want ln E = %v", a.Stats.Entropy, math.Log(float64(E)))
		}
		if p == 1 && capE == 0 {
			// Every expert keeps exactly its k tokens: a perfectly even load.
			for e := 0; e < E; e++ {
				if len(a.ExpertTokens(e)) != k {
					t.Fatalf("expert %d holds %d tokens, want k=%d", e, len(a.ExpertTokens(e)), k)
				}
			}
			if a.Stats.LoadBalanceRatio != 0 || a.Stats.CapacityUtilization != 1 {
				t.Fatalf("stats %+v, want ratio 0 and utilization 1", a.Stats)
			}
		}
	}
	f(256, 16, 64, 2, 1, 0, PolicyAbstain)
	f(256, 16, 64, 2, 1, 0, PolicyArgmax)
	f(256, 16, 64, 2, 0.65, 0, PolicyAbstain)
	f(256, 16, 64, 2, 0.65, 0, PolicyArgmax)
	f(256, 16, 64, 2, 0.65, 3, PolicyArgmax)
	f(100, 12, 8, 1.8, 0.6, 0, PolicyArgmax)
	f(100, 8, 8, 1.6, 0.55, 0, PolicyArgmax)
	f(7, 1, 3, 0.5, 0.3, 0, PolicyArgmax)
	f(5, 32, 2, 4, 1, 0, PolicyAbstain)
	f(300, 32, 1, 0.5, 0.01, 0, PolicyArgmax)
}

// TestLoadBalanceUniformArgmax: under uniform scores every expert picks the
// same first k tokens; with a p that one expert reaches, each of them keeps
// expert 0, and PolicyArgmax spreads the rest over the other experts, so
// with c = 1 the whole batch is covered and the load is even.
func TestLoadBalanceUniformArgmax(t *testing.T) {
	for _, E := range []int{2, 8, 12, 16, 32} {
		n, dim := 256, 16
		cfg := LayerConfig{Experts: E, CapacityFactor: 1, P: 1e-3, Undercovered: PolicyArgmax}
		l, err := NewLayer(cfg, dim, make([]float32, dim*E))
		if err != nil {
			t.Fatal(err)
		}
		a := NewAssignment(n, E)
		if err := l.Route(make([]float32, n*dim), n, a); err != nil {
			t.Fatal(err)
		}
		if a.Stats.Undercovered-a.Stats.UndercoveredAssigned != 0 {
			t.Fatalf("E=%d: %d tokens left without experts", E, a.Stats.Undercovered-a.Stats.UndercoveredAssigned)
		}
		notFull := 0
		for e := 0; e < E; e++ {
			if len(a.ExpertTokens(e)) < a.K {
				notFull++
			}
		}
		if a.Stats.MaxExpertLoad > a.K || notFull > 1 {
			t.Fatalf("E=%d: %d experts below K=%d, stats %+v", E, notFull, a.K, a.Stats)
		}
		if n%E == 0 && a.Stats.LoadBalanceRatio != 0 {
			t.Fatalf("E=%d divides n: ratio %v, want 0", E, a.Stats.LoadBalanceRatio)
		}
	}
}
