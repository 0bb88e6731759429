package decide

import (
	"math"
	"slices"
	"sync/atomic"

	"thunderline/hotpath/router"
)

// f64 is a float64 stored as bits in an atomic, for gauges read by other
// goroutines.
type f64 struct{ v atomic.Uint64 }

func (f *f64) Store(x float64) { f.v.Store(math.Float64bits(x)) }
func (f *f64) Load() float64   { return math.Float64frombits(f.v.Load()) }
func (f *f64) Add(x float64) {
	for {
		old := f.v.Load()
		if f.v.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+x)) {
			return
		}
	}
}

// LayerMetrics are the routing statistics of one layer: the last batch's
// gauges and running totals (seed 004 §7, §9).
type LayerMetrics struct {
	Batches             atomic.Uint64
	Tokens              atomic.Uint64
	Pairs               f64 // Σ experts per token × tokens: AvgExpertsPerToken = Pairs/Tokens
	LoadBalanceRatio    f64 // last batch
	CapacityUtilization f64 // last batch
	Entropy             f64 // last batch, mean nats
	Undercovered        atomic.Uint64
	UndercoveredArgmax  atomic.Uint64
	Invalid             atomic.Uint64
	PSaturation         [10]atomic.Uint64
}

// Metrics are the stage's counters, written by its goroutine and read by the
// Prometheus collector (off the hot path).
type Metrics struct {
	Version atomic.Uint64
	Swaps   atomic.Uint64
	// Operator actions applied in band, and those naming an expert the
	// router version in use did not have.
	Ops, OpsUnmatched atomic.Uint64
	Batches           atomic.Uint64
	Tokens            atomic.Uint64
	RouteErrors       atomic.Uint64
	Warms             atomic.Uint64    // warm-ups run (Stage.Warm)
	Actions           [4]atomic.Uint64 // by action code
	Layers            [MaxLayers]LayerMetrics
}

func (m *Metrics) observe(l int, st *router.Stats, n int) {
	lm := &m.Layers[l]
	lm.Batches.Add(1)
	lm.Tokens.Add(uint64(n))
	lm.Pairs.Add(st.AvgExpertsPerToken * float64(n))
	lm.LoadBalanceRatio.Store(st.LoadBalanceRatio)
	lm.CapacityUtilization.Store(st.CapacityUtilization)
	lm.Entropy.Store(st.Entropy)
	lm.Undercovered.Add(uint64(st.Undercovered))
	lm.UndercoveredArgmax.Add(uint64(st.UndercoveredAssigned))
	lm.Invalid.Add(uint64(st.Invalid))
	for b, c := range st.PSaturation {
		lm.PSaturation[b].Add(uint64(c))
	}
}

// Metrics returns the stage's live counters.
func (s *Stage) Metrics() *Metrics { return &s.m }

// RiskCounters returns the risk policy's counters: breaches, breach streaks,
// decisions replaced by abstain, halted decisions, and whether high-latency
// experts are being forced to abstain.
func (s *Stage) RiskCounters() (breaches, streaks, flagged, halted uint64, forcing bool) {
	r := s.risk
	return r.Breaches.Load(), r.BreachStreaks.Load(), r.Flagged.Load(), r.HaltedDecision.Load(), r.ForcingActive.Load()
}

// PaperTotals returns the paper book's total PnL and trade count. Safe from
// any goroutine.
func (s *Stage) PaperTotals() (pnl float64, trades uint64) {
	return s.paper.total.Load(), s.paper.trades.Load()
}

// latencies keeps the last window-close → trace latencies in a ring, for
// percentiles (computed off the hot path, from any goroutine).
type latencies struct {
	ring []atomic.Int64
	n    atomic.Uint64
}

const latencyRing = 1 << 16

func (l *latencies) init() { l.ring = make([]atomic.Int64, latencyRing) }
func (l *latencies) add(ns int64) {
	n := l.n.Load()
	l.ring[n%latencyRing].Store(ns)
	l.n.Store(n + 1)
}

// Latency returns percentiles (in ns) of window close → trace over the last
// 65,536 traces (at most): p50, p99, p99.9 and the count of traces seen.
// Windows closed by the end of the input are not in it (EndLatency).
// Safe from any goroutine (it allocates).
func (s *Stage) Latency() (p50, p99, p999 int64, n uint64) { return s.lat.percentiles() }

// EndLatency is Latency for the windows the end of the input closed
// (FeatureWindow.AtEnd): a run's last windows close together when its
// input ends and are routed one boundary after another, so they are
// measured apart from the steady state Latency reports.
func (s *Stage) EndLatency() (p50, p99, p999 int64, n uint64) { return s.endLat.percentiles() }

// WireLatency returns percentiles (in ns) of packet receipt → trace over the
// last 65,536 traces that had a receive time (StageConfig.Wire): the
// packet's kernel receive stamp to the trace, for the tick whose watermark
// closed the window. All zero without Wire. Safe from any goroutine.
func (s *Stage) WireLatency() (p50, p99, p999 int64, n uint64) { return s.wire.percentiles() }

func (l *latencies) percentiles() (p50, p99, p999 int64, n uint64) {
	total := l.n.Load()
	k := min(total, latencyRing)
	if k == 0 {
		return 0, 0, 0, 0
	}
	v := make([]int64, k)
	for i := range v {
		v[i] = l.ring[i].Load()
	}
	slices.Sort(v)
	q := func(p float64) int64 { return v[min(int(float64(k)*p), int(k)-1)] }
	return q(0.5), q(0.99), q(0.999), total
}

// LatencySince appends to dst the close → trace latencies (ns) of the traces
// recorded after the first from traces — at most the last 65,536 — and
// returns it with the count of traces seen so far, the next call's from. For
// timelines: a sampler calls it every few milliseconds. Safe from any
// goroutine; a value overwritten while it is read is read as its newer one.
func (s *Stage) LatencySince(from uint64, dst []int64) ([]int64, uint64) {
	return s.lat.since(from, dst)
}

// WireLatencySince is LatencySince for packet receipt → trace.
func (s *Stage) WireLatencySince(from uint64, dst []int64) ([]int64, uint64) {
	return s.wire.since(from, dst)
}

func (l *latencies) since(from uint64, dst []int64) ([]int64, uint64) {
	total := l.n.Load()
	if total > from+latencyRing {
		from = total - latencyRing
	}
	for i := from; i < total; i++ {
		dst = append(dst, l.ring[i%latencyRing].Load())
	}
	return dst, total
}

// BreachStreak is the number of consecutive breach intervals so far (the
// ladder's step 6 input). Safe from any goroutine.
func (s *Stage) BreachStreak() int { return int(s.risk.Streak.Load()) }
