package decide

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"thunderline/hotpath/expert"
	"thunderline/hotpath/record"
	"thunderline/hotpath/router"
	"thunderline/hotpath/window"
)

// StageConfig assembles a decision stage.
type StageConfig struct {
	Tenant     string
	Partitions int
	// MaxBatch cuts a boundary's windows into batches of at most this many
	// tokens. Default 256.
	MaxBatch int
	// Pending is the initial capacity of windows waiting for their boundary.
	// Default 4096 (it grows if partitions drift further apart; counted).
	Pending int
	Risk    RiskConfig
	Deny    *DenyList
	// Emit receives each trace, on the stage's goroutine; the pointer is
	// valid during the call only.
	Emit func(t *DecisionTrace)
	// Warm keeps the features of the last batch routed, for Warm.
	Warm bool
	// Wire measures packet receipt → trace for windows that carry a
	// receive time (FeatureWindow.ClosedRx): set it when the feed stamps
	// this host's receive times (a live MoldUDP64 feed), not for captures,
	// whose receive times are another host's, long ago.
	Wire bool
}

// Stage is the decision stage. OnWindow and OnMark run on one goroutine;
// Swap, Metrics and the deny list may be used from any goroutine.
type Stage struct {
	cfg     StageConfig
	syms    *record.Symbols
	cur     atomic.Pointer[Model]
	active  *Model
	batcher *Batcher
	risk    *risk
	paper   *paper
	assign  []*router.Assignment
	emb     [2][]float32
	hidden  []float32
	in      expert.Input
	out     expert.Output
	traces  []DecisionTrace
	scratch []byte
	// Shadow experts' output and encoding scratch.
	shOut     expert.Output
	shScratch []byte
	forced    []*expert.Guard // experts forced by ladder step 6 (OpBreachForce)
	retired   []retiredExpert // experts retired by an operator (OpRetire)
	lat       latencies
	endLat    latencies // windows closed by the end of the input (FeatureWindow.AtEnd)
	wire      latencies // packet receipt → trace (StageConfig.Wire)
	m         Metrics
	routeFn   func([]window.FeatureWindow)
	warm      warmUp

	pendMu   sync.Mutex
	pending  []scheduled // models to switch to and operator actions, by boundary, in order
	nPending atomic.Int32
}

// scheduled is a router version (m) or an operator action (op) to apply
// before the first batch ending after boundary.
type scheduled struct {
	boundary int64
	m        *Model
	op       Op
}

// NewStage returns a stage running model m.
func NewStage(cfg StageConfig, syms *record.Symbols, m *Model) (*Stage, error) {
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Pending == 0 {
		cfg.Pending = 4096
	}
	cfg.Risk = cfg.Risk.WithDefaults()
	switch {
	case cfg.MaxBatch < 1 || cfg.MaxBatch > math.MaxUint16:
		return nil, fmt.Errorf("decide: max_batch %d: want 1 to %d", cfg.MaxBatch, math.MaxUint16)
	case cfg.Partitions < 1:
		return nil, fmt.Errorf("decide: partitions %d: want at least 1", cfg.Partitions)
	case cfg.Emit == nil:
		return nil, errors.New("decide: no Emit function")
	}
	if err := cfg.Risk.Validate(); err != nil {
		return nil, fmt.Errorf("decide: risk: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	s := &Stage{cfg: cfg, syms: syms,
		batcher: NewBatcher(syms, cfg.Partitions, cfg.MaxBatch, cfg.Pending),
		risk:    newRisk(cfg.Risk, cfg.Deny, cfg.Tenant, syms),
		traces:  make([]DecisionTrace, cfg.MaxBatch),
		paper:   newPaper(MaxGates, cfg.Risk.TradeSize), // the final layer has at most MaxGates experts
		scratch: make([]byte, 0, MaxTraceSize), shScratch: make([]byte, 0, 256+2*maxTraceNameLen),
	}
	s.lat.init()
	s.endLat.init()
	if cfg.Wire {
		s.wire.init()
	}
	s.cur.Store(m)
	s.use(m)
	s.routeFn = s.route
	return s, nil
}

// Deny returns the deny list (the kill switch).
func (s *Stage) Deny() *DenyList { return s.risk.deny }

// Swap publishes a new router version. It is validated here; the stage picks
// it up at the start of its next batch, so a batch always finishes on the
// version it started with.
func (s *Stage) Swap(m *Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if old := s.cur.Load(); old != nil && m.Version <= old.Version {
		return fmt.Errorf("router: version %d: must be above the running version %d", m.Version, old.Version)
	}
	s.cur.Store(m)
	s.m.Swaps.Add(1)
	return nil
}

// Schedule makes m the model of every batch that ends after boundary (event
// time). Called by the dispatcher's control hook before it broadcasts any
// watermark past boundary, so no such batch has been routed yet and the
// switch happens at the same batch in every replay. Safe from any
// goroutine.
func (s *Stage) Schedule(boundary int64, m *Model) error {
	if err := m.Validate(); err != nil {
		return err
	}
	s.pendMu.Lock()
	s.pending = append(s.pending, scheduled{boundary: boundary, m: m})
	s.nPending.Store(int32(len(s.pending)))
	s.pendMu.Unlock()
	return nil
}

// applyScheduled switches to scheduled models, and applies scheduled
// operator actions, whose boundary the batch ending at end has passed.
func (s *Stage) applyScheduled(end int64) {
	if s.nPending.Load() == 0 {
		return
	}
	s.pendMu.Lock()
	k := 0
	for k < len(s.pending) && end > s.pending[k].boundary {
		if m := s.pending[k].m; m != nil {
			s.forceRetired(m)
			s.cur.Store(m)
			s.m.Swaps.Add(1)
		} else {
			s.applyOp(&s.pending[k].op)
		}
		k++
	}
	s.pending = s.pending[:copy(s.pending, s.pending[k:])]
	s.nPending.Store(int32(len(s.pending)))
	s.pendMu.Unlock()
}

// Current returns the newest published model.
func (s *Stage) Current() *Model { return s.cur.Load() }

// use sizes the buffers for m (allocating only when m needs more than any
// model before it) and makes it the active model.
func (s *Stage) use(m *Model) {
	dim, experts := m.maxDims()
	if len(s.assign) < len(m.Layers) || s.assign[0].MaxExperts() < experts {
		s.assign = s.assign[:0]
		for range MaxLayers {
			s.assign = append(s.assign, router.NewAssignment(s.cfg.MaxBatch, experts))
		}
	}
	if len(s.emb[0]) < s.cfg.MaxBatch*dim {
		s.emb[0] = make([]float32, s.cfg.MaxBatch*dim)
		s.emb[1] = make([]float32, s.cfg.MaxBatch*dim)
		s.hidden = make([]float32, dim)
	}
	if s.cfg.Warm {
		s.warm.size(s.cfg.MaxBatch, dim, experts, s.assign)
	}
	s.active = m
	s.m.Version.Store(m.Version)
}

// OnWindow takes a closed window from a partition.
func (s *Stage) OnWindow(w *window.FeatureWindow) { s.batcher.Add(w) }

// OnMark records a partition's processed watermark and routes every batch
// it completes.
func (s *Stage) OnMark(part int, mark int64) { s.batcher.Mark(part, mark, s.routeFn) }

// route decides one batch.
func (s *Stage) route(batch []window.FeatureWindow) {
	s.applyScheduled(batch[0].End)
	if m := s.cur.Load(); m != s.active {
		s.use(m)
	}
	m := s.active
	n := len(batch)
	s.risk.advance(batch[0].End)
	in, out := s.emb[0], s.emb[1]
	d0 := m.EmbedDim
	for i := range batch {
		m.Embed(&batch[i].Features, in[i*d0:(i+1)*d0])
		t := &s.traces[i]
		*t = DecisionTrace{WindowID: batch[i].ID, WindowHash: batch[i].Hash, RouterVersion: m.Version,
			Symbol: batch[i].Symbol, End: batch[i].End, Layers: uint8(len(m.Layers)), Batch: uint16(n)}
		if len(m.Shadow) > 0 {
			s.evalShadows(m, t, in[i*d0:(i+1)*d0], batch[i].Features[:])
		}
	}
	dimIn := d0
	for l := range m.Layers {
		lm := &m.Layers[l]
		a := s.assign[l]
		if err := lm.Router.Route(in[:n*dimIn], n, a); err != nil {
			// Shapes are validated with the model: this is a bug, not input.
			s.m.RouteErrors.Add(1)
			for i := range batch {
				s.traces[i].RiskFlags |= RiskAllAbstained
			}
			break
		}
		s.m.observe(l, &a.Stats, n)
		last := l == len(m.Layers)-1
		for i := 0; i < n; i++ {
			s.evalToken(i, &batch[i], &s.traces[i], lm, a, l, last, in[i*dimIn:(i+1)*dimIn], out)
		}
		if !last {
			in, out = out, in
			dimIn = lm.OutDim
		}
	}
	now := window.MonoNow()
	for i := range batch {
		s.finish(&batch[i], &s.traces[i], now)
	}
	if s.cfg.Warm {
		s.warm.keep(batch)
	}
	s.m.Batches.Add(1)
	s.m.Tokens.Add(uint64(n))
}

// evalToken runs the kept experts of token i in layer l and combines their
// outputs: the gate-weighted mean of the non-abstaining experts (gates
// renormalized over them). A hidden layer writes the token's next
// embedding into out; the final layer writes the blended scores.
func (s *Stage) evalToken(tok int, w *window.FeatureWindow, t *DecisionTrace, lm *LayerModel, a *router.Assignment,
	l int, last bool, emb, out []float32) {
	exps, gates := a.TokenExperts(tok)
	var next []float32
	if !last {
		next = out[tok*lm.OutDim : (tok+1)*lm.OutDim]
		clear(next)
	}
	if last {
		t.NGates = uint8(a.E)
		copy(t.Gates[:a.E], a.Probs[tok*a.E:(tok+1)*a.E])
	}
	var live float32
	var scores [NumActions]float32
	var conf float32
	k := 0
	for j, e := range exps {
		if k == MaxKept {
			break
		}
		g := lm.Experts[e]
		s.in = expert.Input{Features: w.Features[:], Embedding: emb, Symbol: w.Symbol, End: w.End}
		s.out.Hidden = s.hidden[:lm.OutDim]
		lat := g.EvalTimed(&s.in, &s.out) // the guard's own measure: two clock reads a call, not four
		act := &t.Actions[l][k]
		*act = ExpertAction{Expert: uint16(e), Layer: uint8(l), Abstain: s.out.Abstain, Gate: gates[j],
			Scores: s.out.Scores, Confidence: s.out.Confidence, LatencyNs: int64(lat)}
		k++
		if s.out.Abstain {
			if s.forcedHere(g) {
				t.RiskFlags |= RiskBreachForced
			}
			continue
		}
		gj := gates[j]
		live += gj
		if last {
			for c := range scores {
				scores[c] += float32(gj * s.out.Scores[c])
			}
			conf += float32(gj * s.out.Confidence)
		} else {
			for d, v := range s.out.Hidden {
				next[d] += float32(gj * v)
			}
		}
	}
	t.NSel[l] = uint8(k)
	if !last {
		switch {
		case live > 0:
			inv := 1 / live
			for d := range next {
				next[d] = float32(next[d] * inv)
			}
		case len(emb) == len(next):
			copy(next, emb) // no expert spoke: the token passes through unchanged
		}
		return
	}
	if live > 0 {
		inv := 1 / live
		for c := range scores {
			scores[c] = float32(scores[c] * inv)
		}
		t.Scores, t.Confidence = scores, float32(conf*inv)
		t.Proposed = argmax(scores)
	} else {
		t.Scores, t.Proposed = [NumActions]float32{ActionHold: 1}, ActionAbstain
		t.RiskFlags |= RiskAllAbstained
	}
}

// finish applies risk and the paper book, derives the behavior embedding and
// the hash, and emits the trace.
//
// An EDGAR window's decision is a signal about a company, not an order: it
// has no market price, so the paper book and the position limits do not
// apply; the kill switch (deny list) still does.
func (s *Stage) finish(w *window.FeatureWindow, t *DecisionTrace, now int64) {
	t.Action = t.Proposed
	if w.Kind == window.KindEdgar {
		if s.risk.halted(w.Symbol) {
			s.risk.HaltedDecision.Add(1)
			t.RiskFlags |= RiskHalted
			if t.Action != ActionAbstain {
				t.Action = ActionAbstain
				s.risk.Flagged.Add(1)
			}
		}
	} else {
		mid := w.Features[window.FMid]
		pos, pnl := s.paper.state(w.Symbol, mid)
		t.RiskFlags |= s.risk.check(w.Symbol, t.Proposed, pos, mid, pnl)
		if t.RiskFlags&(RiskHalted|RiskPositionCap|RiskNoMarket) != 0 && t.Action != ActionAbstain {
			t.Action = ActionAbstain
			s.risk.Flagged.Add(1)
		}
		t.Position, t.PnL = s.paper.apply(w.Symbol, t.Action, mid, t)
		t.Mid = mid
	}
	behavior(w, t)
	t.ID = TraceID(t.WindowID, t.RouterVersion)
	s.scratch = HashTrace(t, s.cfg.Tenant, s.syms.Name(t.Symbol), s.scratch)
	if t.NShadow > 0 {
		s.hashShadows(s.active, t, s.syms.Name(t.Symbol))
	}
	if w.ClosedNs != 0 {
		t.LatencyNs = now - w.ClosedNs
		if w.AtEnd {
			s.endLat.add(t.LatencyNs)
		} else {
			s.lat.add(t.LatencyNs)
		}
	}
	if s.cfg.Wire && w.ClosedRx != 0 {
		s.wire.add(window.WallOfMono(now) - w.ClosedRx)
	}
	s.m.Actions[t.Action].Add(1)
	s.cfg.Emit(t)
}

// forcedHere reports whether ladder step 6 forced g to abstain (an
// operator's force is not a breach).
func (s *Stage) forcedHere(g *expert.Guard) bool {
	for _, f := range s.forced {
		if f == g {
			return true
		}
	}
	return false
}

// Drain routes every window pending now, whatever the partitions' marks,
// and leaves the marks as they are: for a stream whose windows are final
// when they arrive (EDGAR filings), it makes one call's windows the batches
// (cut by boundary and MaxBatch as always).
func (s *Stage) Drain() { s.batcher.release(math.MaxInt64, s.routeFn) }

// Flush routes whatever is pending at the end of the input (every partition
// has ended).
func (s *Stage) Flush() {
	for p := 0; p < s.cfg.Partitions; p++ {
		s.batcher.Mark(p, math.MaxInt64, s.routeFn)
	}
}

// ExpertPnL returns the PnL attributed to each final-layer expert index.
func (s *Stage) ExpertPnL() []float64 { return append([]float64(nil), s.paper.expertPnL...) }

// behavior is the trace's behavior embedding: a deterministic compression
// of the window's features, the final gates and the blended action into
// BehaviorDim signed bytes. Each byte is round(127·softsign(Σ_k R[j,k]·z_k))
// with z = (softsign of each feature, the first 8 final-layer gates, the
// blended scores, the confidence) and R a fixed ±1 matrix derived from a
// constant (so embeddings compare across router versions).
func behavior(w *window.FeatureWindow, t *DecisionTrace) {
	var z [window.NumFeatures + 8 + NumActions + 1]float32
	k := 0
	for f := 0; f < window.NumFeatures; f++ {
		z[k] = softsign(w.Features[f])
		k++
	}
	for g := 0; g < 8; g++ {
		if g < int(t.NGates) {
			z[k] = t.Gates[g]
		}
		k++
	}
	for _, v := range t.Scores {
		z[k] = v
		k++
	}
	z[k] = t.Confidence
	// Column by column, so the BehaviorDim sums are independent chains;
	// each sum still adds its terms in the order of z (the same bits).
	var acc [BehaviorDim]float32
	for i, v := range z {
		col := &signs[i]
		for j := range acc {
			acc[j] += col[j] * v // ±v exactly: the same sum as adding or subtracting v
		}
	}
	for j, a := range acc {
		q := math.Round(127 * float64(softsign(float64(a))))
		t.Behavior[j] = int8(max(-127, min(127, q)))
	}
}

// signs is the fixed ±1 matrix R of behavior (transposed: signs[i][j] is
// R[j,i]), from rademacher.
var signs = func() (r [window.NumFeatures + 8 + NumActions + 1][BehaviorDim]float32) {
	for i := range r {
		for j := range r[i] {
			r[i][j] = -1
			if rademacher(j, i) {
				r[i][j] = 1
			}
		}
	}
	return r
}()

// rademacher is a fixed pseudo-random sign for (row, column).
func rademacher(j, i int) bool {
	x := uint64(j)*0x9e3779b97f4a7c15 ^ uint64(i)*0xbf58476d1ce4e5b9 ^ 0x94d049bb133111eb
	x ^= x >> 31
	x *= 0xd6e8feb86659fd93
	x ^= x >> 32
	return x&1 == 1
}
