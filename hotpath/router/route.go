package router

import (
	"errors"
	"math"
)

// Errors returned by Route. They are values made once, so returning them
// allocates nothing; callers branch on them with errors.Is.
var (
	ErrNilAssignment     = errors.New("router: nil assignment")
	ErrTooManyTokens     = errors.New("router: batch larger than the assignment's maxTokens")
	ErrTooManyExperts    = errors.New("router: layer has more experts than the assignment's maxExperts")
	ErrEmbeddingShape    = errors.New("router: len(emb) != n·dim")
	ErrNegativeBatchSize = errors.New("router: negative batch size")
)

// Route routes a batch of n tokens, emb float32 row-major n×Dim() with
// len(emb) == n·Dim(), into a, overwriting it (doc.go has the algorithm).
// It allocates nothing. A batch of 0 tokens is valid and routes nothing.
// Non-finite embedding values make their tokens invalid (StatusInvalid),
// never an error: the rest of the batch is routed.
func (l *Layer) Route(emb []float32, n int, a *Assignment) error {
	switch {
	case a == nil:
		return ErrNilAssignment
	case n < 0:
		return ErrNegativeBatchSize
	case n > a.maxTokens:
		return ErrTooManyTokens
	case l.cfg.Experts > a.maxExperts:
		return ErrTooManyExperts
	case len(emb) != n*l.dim:
		return ErrEmbeddingShape
	}
	E := l.cfg.Experts
	a.RouterVersion = l.cfg.Version
	a.Layer = l.cfg.Layer
	a.N, a.E = n, E
	a.K = l.cfg.Capacity(n)
	a.CapacityFactor = l.cfg.CapacityFactor
	a.P = l.cfg.P
	a.MaxExpertsPerToken = l.cfg.MaxExpertsPerToken
	a.Policy = l.cfg.Undercovered
	a.Probs = a.probsBuf[: n*E : n*E]
	a.Stats = Stats{}

	gateMatmulFast(a.Probs, emb, l.w, l.wt, n, l.dim, E)
	valid, entropy := softmaxRows(a.Probs, n, E, a.status[:n], a.xs)
	a.Stats.Invalid = n - valid
	if valid > 0 {
		a.Stats.Entropy = entropy / float64(valid)
	}
	l.expertChoice(a, valid)
	l.topP(a)
	l.undercovered(a)
	a.emit()
	return nil
}

// softmaxRows turns each row of logits (n×E, in place) into probabilities
// (doc.go, steps 2 and 3) and marks invalid rows in status (every other
// token is marked StatusRouted for now). It returns the number of valid
// rows and the sum of their entropies. xs is scratch for n×E shifted
// logits: the exponentials of the whole batch are one call, so a vector
// kernel sets its constants up once and runs without row breaks.
func softmaxRows(p []float32, n, E int, status []TokenStatus, xs []float32) (valid int, entropy float64) {
	p, xs = p[:n*E], xs[:n*E]
	for i := 0; i < n; i++ {
		row := p[i*E : i*E+E]
		// Four running maxima (max is exact, so the split changes nothing but
		// the latency of the chain); bad stays 0 unless a value is NaN or
		// ±Inf, whose v-v is NaN.
		m0 := row[0]
		m1, m2, m3 := m0, m0, m0
		var bad float32
		e := 0
		for ; e+4 <= len(row); e += 4 {
			v0, v1, v2, v3 := row[e], row[e+1], row[e+2], row[e+3]
			bad += (v0 - v0) + (v1 - v1) + (v2 - v2) + (v3 - v3)
			m0, m1, m2, m3 = max(m0, v0), max(m1, v1), max(m2, v2), max(m3, v3)
		}
		for ; e < len(row); e++ {
			bad += row[e] - row[e]
			m0 = max(m0, row[e])
		}
		m := max(max(m0, m1), max(m2, m3))
		x := xs[i*E : i*E+E]
		if bad != 0 {
			status[i] = StatusInvalid
			clear(x) // any value would do: the row is overwritten below
			continue
		}
		status[i] = StatusRouted
		valid++
		for e, v := range row {
			d := v - m
			if d < -1e30 {
				// -Inf when the difference overflows: exp of it is 0 either
				// way, and a finite x keeps q·x below free of NaN.
				d = -1e30
			}
			x[e] = d
		}
	}
	expInto(p, xs)
	nan := float32(math.NaN())
	for i := 0; i < n; i++ {
		row := p[i*E : i*E+E]
		if status[i] == StatusInvalid {
			for e := range row {
				row[e] = nan
			}
			continue
		}
		x := xs[i*E : i*E+E]
		x = x[:len(row)]
		var s, h float64
		for e, q := range row {
			s += float64(q)
			// Σ over q > 0 of q·x: a zero q adds ±0 (x is finite), which
			// leaves h unchanged, so no branch is needed.
			h = h + float64(float64(q)*float64(x[e]))
		}
		inv := 1 / s
		for e, q := range row {
			row[e] = float32(float64(q) * inv)
		}
		entropy += math.Log(s) - float64(inv*h)
	}
	return valid, entropy
}

// tokenKey orders (probability, token) pairs for Expert-Choice: a larger
// key is a better pick. Probabilities are finite and >= +0, so their
// float32 bits order like the values; ^i makes the lower index win a tie.
func tokenKey(p float32, i int) uint64 {
	return uint64(math.Float32bits(p))<<32 | uint64(^uint32(i))
}

func keyToken(k uint64) int32 { return int32(^uint32(k)) }

// expertKey orders (probability, expert) pairs for Top-P: a larger key is
// ranked first, and the lower expert index wins a tie.
func expertKey(p float32, e int) uint64 {
	return uint64(math.Float32bits(p))<<32 | uint64(MaxExperts-1-e)
}

func keyExpert(k uint64) int { return MaxExperts - 1 - int(uint32(k)) }

func keyProb(k uint64) float32 { return math.Float32frombits(uint32(k >> 32)) }

// expertChoice fills each expert's bucket with its top-kk valid tokens,
// kk = min(K, valid), as keys in a.heap[e*kk : (e+1)*kk] (unordered), then
// groups the picks by token into a.cand with offsets a.candOff (doc.go,
// step 5).
func (l *Layer) expertChoice(a *Assignment, valid int) {
	n, E := a.N, a.E
	kk := min(a.K, valid)
	p := a.Probs
	status := a.status[:n]
	for e := 0; e < E; e++ {
		h := a.heap[e*kk : e*kk+kk]
		if kk == 0 {
			continue
		}
		if kk == valid { // the bucket holds every valid token
			j := 0
			for i, s := range status {
				if s != StatusInvalid {
					h[j] = tokenKey(p[i*E+e], i)
					j++
				}
			}
			continue
		}
		// Min-heap of the best kk keys seen so far: O(n log kk).
		j, i := 0, 0
		for ; j < kk; i++ {
			if status[i] != StatusInvalid {
				h[j] = tokenKey(p[i*E+e], i)
				j++
			}
		}
		for r := kk/2 - 1; r >= 0; r-- {
			siftDown(h, r)
		}
		for ; i < n; i++ {
			if status[i] == StatusInvalid {
				continue
			}
			if key := tokenKey(p[i*E+e], i); key > h[0] {
				h[0] = key
				siftDown(h, 0)
			}
		}
	}

	// Group by token: count, offsets, fill in expert order.
	cnt := a.keep[:n]
	clear(cnt)
	picks := a.heap[:E*kk]
	for _, key := range picks {
		cnt[keyToken(key)]++
	}
	off := a.candOff[: n+1 : n+1]
	off[0] = 0
	for i, c := range cnt {
		off[i+1] = off[i] + c
		cnt[i] = off[i] // now the fill cursor
	}
	for e := 0; e < E; e++ {
		for _, key := range picks[e*kk : e*kk+kk] {
			t := keyToken(key)
			a.cand[cnt[t]] = expertKey(p[int(t)*E+e], e)
			cnt[t]++
		}
	}
}

// siftDown restores the min-heap property of h below r.
func siftDown(h []uint64, r int) {
	n := len(h)
	v := h[r]
	for {
		c := 2*r + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1] < h[c] {
			c++
		}
		if h[c] >= v {
			break
		}
		h[r] = h[c]
		r = c
	}
	h[r] = v
}

// topP sorts each token's assigned experts by descending probability (ties:
// lower expert) and keeps the shortest prefix reaching P, capped (doc.go,
// step 6). It leaves the kept count in a.keep and the loads in a.load.
func (l *Layer) topP(a *Assignment) {
	n, E := a.N, a.E
	P := l.cfg.P
	limit := int32(l.cfg.MaxExpertsPerToken)
	load := a.load[:E]
	clear(load)
	for i := 0; i < n; i++ {
		lo, hi := a.candOff[i], a.candOff[i+1]
		c := a.cand[lo:hi]
		// Insertion sort, descending: lists are about c long.
		for j := 1; j < len(c); j++ {
			v := c[j]
			r := j
			for ; r > 0 && c[r-1] < v; r-- {
				c[r] = c[r-1]
			}
			c[r] = v
		}
		var cum float64
		m := int32(0)
		for _, key := range c {
			cum += float64(keyProb(key))
			m++
			if cum >= P || m == limit {
				break
			}
		}
		a.keep[i] = m
		for _, key := range c[:m] {
			load[keyExpert(key)]++
		}
	}
}

// undercovered applies the policy to valid tokens no expert picked (doc.go,
// step 7), in increasing token index.
func (l *Layer) undercovered(a *Assignment) {
	n, E, K := a.N, a.E, int32(a.K)
	load := a.load[:E]
	for i := 0; i < n; i++ {
		a.extra[i] = -1
		if a.status[i] == StatusInvalid || a.candOff[i] != a.candOff[i+1] {
			continue
		}
		a.Stats.Undercovered++
		a.status[i] = StatusUndercovered
		if l.cfg.Undercovered != PolicyArgmax {
			continue
		}
		row := a.Probs[i*E : i*E+E]
		best, bestKey := -1, uint64(0)
		for e, q := range row {
			if load[e] >= K {
				continue
			}
			if key := expertKey(q, e); best < 0 || key > bestKey {
				best, bestKey = e, key
			}
		}
		if best < 0 {
			continue
		}
		load[best]++
		a.extra[i] = int16(best)
		a.status[i] = StatusArgmax
		a.Stats.UndercoveredAssigned++
	}
}

// emit writes the final token → experts lists with gate weights (doc.go,
// step 8), the expert → tokens lists and the statistics.
func (a *Assignment) emit() {
	n, E := a.N, a.E
	st := &a.Stats
	a.tokOff[0] = 0
	w := int32(0)
	for i := 0; i < n; i++ {
		switch a.status[i] {
		case StatusRouted:
			lo := a.candOff[i]
			kept := a.cand[lo : lo+a.keep[i]]
			var cum float64
			for _, key := range kept {
				cum += float64(keyProb(key))
			}
			for j, key := range kept {
				a.tokExp[w+int32(j)] = int16(keyExpert(key))
				if cum > 0 {
					a.tokGate[w+int32(j)] = float32(float64(keyProb(key)) / cum)
				} else {
					a.tokGate[w+int32(j)] = float32(1 / float64(len(kept)))
				}
			}
			w += int32(len(kept))
			st.PSaturation[saturationBucket(cum)]++
		case StatusArgmax:
			e := a.extra[i]
			a.tokExp[w] = e
			a.tokGate[w] = 1
			w++
			st.PSaturation[saturationBucket(float64(a.Probs[i*E+int(e)]))]++
		}
		a.tokOff[i+1] = w
	}

	// Expert → tokens: offsets from the loads, then fill in token order.
	load := a.load[:E]
	a.expOff[0] = 0
	var mean, maxLoad float64
	for e, c := range load {
		a.expOff[e+1] = a.expOff[e] + c
		mean += float64(c)
		maxLoad = max(maxLoad, float64(c))
	}
	total := mean
	if n > 0 {
		st.AvgExpertsPerToken = total / float64(n)
		st.CapacityUtilization = total / (float64(E) * float64(a.K))
	}
	st.MaxExpertLoad = int(maxLoad)
	if total > 0 {
		mean /= float64(E)
		var v float64
		for _, c := range load {
			d := float64(c) - mean
			v = v + float64(d*d)
		}
		st.LoadBalanceRatio = math.Sqrt(v/float64(E)) / mean
	}
	for e := range load {
		load[e] = a.expOff[e]
	}
	for i := 0; i < n; i++ {
		for _, e := range a.tokExp[a.tokOff[i]:a.tokOff[i+1]] {
			a.expTok[load[e]] = int32(i)
			load[e]++
		}
	}
}

// saturationBucket returns min(9, floor(10·c)) for a coverage c >= 0.
func saturationBucket(c float64) int {
	b := int(10 * c)
	if b > 9 {
		return 9
	}
	return b
}
