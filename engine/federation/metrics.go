package federation

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the federation SLOs of seed 000 ("SLOs and KPIs")
// as Prometheus metrics: round latency (its p95 from the histogram), join
// success, effective examples per second, artifact write success and time
// to availability.
type Metrics struct {
	RoundSeconds      prometheus.Histogram
	Joins             *prometheus.CounterVec // result: ok | failed
	ExamplesPerSecond prometheus.Gauge       // last round, all clients
	ClientExamples    *prometheus.GaugeVec   // last round's examples per second, by client (its slice's share)
	ArtifactWrites    *prometheus.CounterVec // result: ok | failed
	ArtifactAvailable prometheus.Histogram   // seconds from the round's end to its checkpoint recorded
	Rounds            *prometheus.CounterVec // status: completed | failed
	Drops             prometheus.Counter
}

// NewMetrics makes the federation metrics and, when r is not
// nil, registers them on it (they are also one prometheus.Collector).
func NewMetrics(r prometheus.Registerer) *Metrics {
	buckets := []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Name: "thunderline_fl_" + name, Help: help}
	}
	histogram := func(name, help string) prometheus.Histogram {
		o := opts(name, help)
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: o.Name, Help: o.Help, Buckets: buckets})
	}
	counters := func(name, help, label string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts(opts(name, help)), []string{label})
	}
	m := &Metrics{
		RoundSeconds: histogram("round_seconds", "Wall time of a federated round, from round.started to round.completed (p95: histogram_quantile)."),
		Joins:        counters("joins_total", "Clients that claimed their lease, verified its manifest and data and joined (ok), or failed to.", "result"),
		ExamplesPerSecond: prometheus.NewGauge(prometheus.GaugeOpts(opts("examples_per_second",
			"Effective training examples per second of the last round, all clients."))),
		ClientExamples: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("client_examples_per_second",
			"Effective training examples per second of the last round, by client (its share of the round's examples, by slice size).")), []string{"client"}),
		ArtifactWrites:    counters("artifact_writes_total", "Round checkpoints written to the artifact store and recorded (ok), or not.", "result"),
		ArtifactAvailable: histogram("artifact_available_seconds", "Seconds from a round's completion to its checkpoint stored and recorded (time to availability)."),
		Rounds:            counters("rounds_total", "Federated rounds by outcome.", "status"),
		Drops:             prometheus.NewCounter(prometheus.CounterOpts(opts("client_drops_total", "Clients dropped during a federation (fl.client.dropped)."))),
	}
	if r != nil {
		r.MustRegister(m)
	}
	return m
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.RoundSeconds, m.Joins, m.ExamplesPerSecond, m.ClientExamples, m.ArtifactWrites,
		m.ArtifactAvailable, m.Rounds, m.Drops}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// fedMetrics records into Metrics when there are some.
type fedMetrics struct{ m *Metrics }

func (f fedMetrics) join(ok bool) {
	if f.m != nil {
		f.m.Joins.WithLabelValues(okLabel(ok)).Inc()
	}
}

func (f fedMetrics) drop() {
	if f.m != nil {
		f.m.Drops.Inc()
	}
}

func (f fedMetrics) artifact(ok bool, took time.Duration) {
	if f.m == nil {
		return
	}
	f.m.ArtifactWrites.WithLabelValues(okLabel(ok)).Inc()
	if ok {
		f.m.ArtifactAvailable.Observe(took.Seconds())
	}
}

// round records a completed round: its latency, and the examples per
// second, in all and per client (a client's share by its slice's size,
// as the server reports the round's total only).
func (f fedMetrics) round(took time.Duration, examples float64, sliceBytes map[string]int64, dropped []string) {
	if f.m == nil || took <= 0 {
		return
	}
	f.m.Rounds.WithLabelValues("completed").Inc()
	f.m.RoundSeconds.Observe(took.Seconds())
	rate := examples / took.Seconds()
	f.m.ExamplesPerSecond.Set(rate)
	gone := map[string]bool{}
	for _, d := range dropped {
		gone[d] = true
	}
	var total int64
	for c, b := range sliceBytes {
		if !gone[c] {
			total += b
		}
	}
	for c, b := range sliceBytes {
		share := 0.0
		if !gone[c] && total > 0 {
			share = float64(b) / float64(total)
		}
		f.m.ClientExamples.WithLabelValues(c).Set(rate * share)
	}
}

func okLabel(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}
