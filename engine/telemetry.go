package engine

import (
	"math"
	"slices"
	"sync"
	"time"

	"thunderline/hotpath/window"
)

// telemetry computes the seed's §9 events that need more than a counter,
// off the hot path (on the sink's goroutine, from its taps) and at scrape
// time:
//   - feature.fill_latency_ms: wall time from a window's end (mapped from
//     event time by the real-time pacing) to the window being persisted;
//   - label.realization_latency_ms: wall time from a label's horizon to its
//     fill being persisted;
//   - drift.feature.psi: per feature, the population stability index of the
//     last driftWindow windows against the first driftWindow (the
//     baseline), over ten bins cut at the baseline's deciles.
type telemetry struct {
	mu       sync.Mutex
	fill     histogram
	labelH   histogram
	baseline [window.NumFeatures][]float64
	recent   [window.NumFeatures][]float64 // ring of the last driftWindow values
	next     int
	seen     int
}

const driftWindow = 512

// latencyBucketsMs are the histogram bounds of both latencies.
var latencyBucketsMs = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000}

type histogram struct {
	counts []uint64 // per bucket, cumulative at export
	sum    float64
	n      uint64
}

func (h *histogram) observe(ms float64) {
	if h.counts == nil {
		h.counts = make([]uint64, len(latencyBucketsMs))
	}
	for i, b := range latencyBucketsMs {
		if ms <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += ms
	h.n++
}

func (h *histogram) snapshot() (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = map[float64]uint64{}
	var cum uint64
	for i, b := range latencyBucketsMs {
		if h.counts != nil {
			cum += h.counts[i]
		}
		buckets[b] = cum
	}
	return h.n, h.sum, buckets
}

// wallOf maps event time to wall time in a real-time paced run (0 when the
// run is not paced in real time or has not started).
func (p *Pipeline) wallOf(event int64) time.Time {
	first := p.firstTs.Load()
	if p.opts.Pacing != PaceRealtime || first == 0 {
		return time.Time{}
	}
	return time.Unix(0, p.startWall.Load()+event-first)
}

func (t *telemetry) window(p *Pipeline, w *window.FeatureWindow) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at := p.wallOf(w.End); !at.IsZero() {
		t.fill.observe(float64(time.Since(at)) / 1e6)
	}
	if t.seen < driftWindow {
		for f := range w.Features {
			t.baseline[f] = append(t.baseline[f], w.Features[f])
		}
		if t.seen == driftWindow-1 {
			for f := range t.baseline {
				slices.Sort(t.baseline[f])
			}
		}
	} else {
		for f := range w.Features {
			if t.recent[f] == nil {
				t.recent[f] = make([]float64, 0, driftWindow)
			}
			if len(t.recent[f]) < driftWindow {
				t.recent[f] = append(t.recent[f], w.Features[f])
			} else {
				t.recent[f][t.next] = w.Features[f]
			}
		}
		t.next = (t.next + 1) % driftWindow
	}
	t.seen++
}

func (t *telemetry) label(p *Pipeline, l *window.LabelFill) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at := p.wallOf(l.End + l.Label.Horizon); !at.IsZero() {
		t.labelH.observe(float64(time.Since(at)) / 1e6)
	}
}

// psi returns each feature's PSI (NaN until the baseline and a full recent
// window exist).
func (t *telemetry) psi() [window.NumFeatures]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out [window.NumFeatures]float64
	for f := range out {
		out[f] = math.NaN()
		base, cur := t.baseline[f], t.recent[f]
		if len(base) < driftWindow || len(cur) < driftWindow {
			continue
		}
		var edges [9]float64
		for i := range edges {
			edges[i] = base[(i+1)*len(base)/10]
		}
		bin := func(v float64) int {
			i, _ := slices.BinarySearch(edges[:], v)
			return i
		}
		var pb, pc [10]float64
		for _, v := range base {
			pb[bin(v)]++
		}
		for _, v := range cur {
			pc[bin(v)]++
		}
		const eps = 1e-4 // empty bins: a floor keeps the log finite
		var s float64
		for i := range pb {
			b := max(pb[i]/float64(len(base)), eps)
			c := max(pc[i]/float64(len(cur)), eps)
			s += (c - b) * math.Log(c/b)
		}
		out[f] = s
	}
	return out
}
