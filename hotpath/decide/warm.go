package decide

import (
	"thunderline/hotpath/expert"
	"thunderline/hotpath/ring"
	"thunderline/hotpath/router"
	"thunderline/hotpath/window"
)

// warmUp is what Warm needs: the last batch's inputs and scratch buffers of
// its own, so a warm-up writes nothing the decisions read.
type warmUp struct {
	in     []expert.Input // the last batch's tokens (features, symbol, end)
	feats  [][window.NumFeatures]float64
	n      int
	emb    [2][]float32
	assign []*router.Assignment
	hidden []float32
	x      expert.Input
	out    expert.Output
}

// size makes the buffers fit a model of embedding dim and experts (called
// by Stage.use, which sizes the stage's own buffers the same way).
func (w *warmUp) size(maxBatch, dim, experts int, assign []*router.Assignment) {
	if len(w.feats) < maxBatch {
		w.feats = make([][window.NumFeatures]float64, maxBatch)
		w.in = make([]expert.Input, maxBatch)
	}
	if len(w.emb[0]) < maxBatch*dim {
		w.emb[0] = make([]float32, maxBatch*dim)
		w.emb[1] = make([]float32, maxBatch*dim)
		w.hidden = make([]float32, dim)
	}
	if len(w.assign) < len(assign) || (len(w.assign) > 0 && w.assign[0].MaxExperts() < experts) {
		w.assign = w.assign[:0]
		for range assign {
			w.assign = append(w.assign, router.NewAssignment(maxBatch, experts))
		}
	}
}

// keep records a routed batch's inputs for the next warm-up.
func (w *warmUp) keep(batch []window.FeatureWindow) {
	w.n = len(batch)
	for i := range batch {
		w.feats[i] = batch[i].Features
		w.in[i] = expert.Input{Symbol: batch[i].Symbol, End: batch[i].End}
	}
}

// Warm keeps the decision path in cache between batches: it routes the last
// batch again, through the active model's embedding, every layer's router
// and the experts it picks, into buffers of its own, and reads the buffers
// the next batch writes (its traces, the batcher's slabs). A feed that
// closes windows every 125 ms streams a million ticks through the caches in
// between, so the next batch would otherwise start from main memory.
//
// It changes nothing a decision reads: only experts that are pure functions
// of their input (expert.Pure) are called, directly rather than through
// their Guard (whose counters and latency budget do not move); a remote
// expert is skipped. Same goroutine as OnWindow and OnMark (the stage's
// loop calls it while it waits, see StageConfig.Warm). It returns a value
// that depends on what it read, so the reads are kept. No allocation.
func (s *Stage) Warm() byte {
	w := &s.warm
	m := s.active
	n := w.n
	if n == 0 || m == nil || len(w.emb[0]) < n*m.EmbedDim {
		return 0
	}
	sum := ring.TouchLines(s.traces[:n]) + s.batcher.touch(n)
	in, out := w.emb[0], w.emb[1]
	d := m.EmbedDim
	for i := 0; i < n; i++ {
		m.Embed(&w.feats[i], in[i*d:(i+1)*d])
	}
	for l := range m.Layers {
		lm := &m.Layers[l]
		a := w.assign[l]
		if lm.Router.Route(in[:n*d], n, a) != nil {
			break
		}
		last := l == len(m.Layers)-1
		for tok := 0; tok < n; tok++ {
			exps, _ := a.TokenExperts(tok)
			var next []float32
			if !last {
				next = out[tok*lm.OutDim : (tok+1)*lm.OutDim]
				clear(next)
			}
			for _, e := range exps {
				x := lm.Experts[e].Unwrap()
				if !expert.Pure(x) {
					continue
				}
				w.x = w.in[tok]
				w.x.Features, w.x.Embedding = w.feats[tok][:], in[tok*d:(tok+1)*d]
				w.out.Hidden = w.hidden[:lm.OutDim]
				x.Eval(&w.x, &w.out)
				if !last && !w.out.Abstain {
					copy(next, w.out.Hidden) // an input of the right shape for the next layer
				}
			}
		}
		if !last {
			in, out = out, in
			d = lm.OutDim
		}
	}
	s.m.Warms.Add(1)
	return sum + byte(w.out.Confidence*255)
}
