package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"thunderline/hotpath/window"
)

func TestMetrics(t *testing.T) {
	prof := testProfile(t, lateProfile)
	p, src := newSynthetic(t, prof, 100_000, Options{})
	sum, err := p.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := p.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	total := func(name string) float64 {
		f := byName[name]
		if f == nil {
			t.Fatalf("metric %s missing", name)
		}
		var v float64
		for _, m := range f.Metric {
			switch {
			case m.Counter != nil:
				v += m.Counter.GetValue()
			case m.Gauge != nil:
				v += m.Gauge.GetValue()
			case m.Histogram != nil:
				v += float64(m.Histogram.GetSampleCount())
			}
		}
		return v
	}
	if total("thunderline_ticks_total") != float64(sum.Ticks) || total("thunderline_windows_total") != float64(sum.Windows) {
		t.Fatalf("ticks %v windows %v, summary %d %d", total("thunderline_ticks_total"), total("thunderline_windows_total"), sum.Ticks, sum.Windows)
	}
	if total("thunderline_decisions_total") != float64(sum.Traces) || total("thunderline_router_tokens_total") != float64(sum.Traces) {
		t.Fatalf("decisions %v tokens %v, traces %d", total("thunderline_decisions_total"), total("thunderline_router_tokens_total"), sum.Traces)
	}
	routed := total("thunderline_router_p_saturation") + total("thunderline_router_undercovered_token_total") - total("thunderline_router_undercovered_assigned_total")
	if routed != float64(sum.Traces) {
		t.Fatalf("p-saturation samples + undercovered = %v, want %d", routed, sum.Traces)
	}
	var rejects uint64
	for _, n := range sum.Rejects {
		rejects += n
	}
	for _, n := range sum.Anomalies {
		rejects += n
	}
	if total("thunderline_rejects_total") != float64(rejects) {
		t.Fatalf("rejects %v, summary %d", total("thunderline_rejects_total"), rejects)
	}
	if e := total("thunderline_router_assignment_experts_per_token"); e < 1 || e > 3 {
		t.Fatalf("experts per token %v", e)
	}
	if total("thunderline_expert_calls_total") == 0 || byName["thunderline_expert_latency_ms"] == nil {
		t.Fatal("expert metrics missing")
	}
}

// TestTelemetryEvents: a real-time run exports feature fill and label
// realization latencies, and feature drift once the baseline and a recent
// window exist.
func TestTelemetryEvents(t *testing.T) {
	prof := testProfile(t, "feed: {pace: realtime, synthetic: {symbols: 64, rate: 200000}}\nnormalize: {seq: contiguous}\njournal: {enabled: false}\nwindow: {length: 20ms}\n")
	p, src := newSynthetic(t, prof, 400_000, Options{Pacing: PaceRealtime})
	if _, err := p.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	fams, _ := p.Registry().Gather()
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	for _, name := range []string{"thunderline_feature_fill_latency_ms", "thunderline_label_realization_latency_ms"} {
		f := byName[name]
		if f == nil || f.Metric[0].Histogram.GetSampleCount() == 0 {
			t.Fatalf("%s: no samples", name)
		}
	}
	psi := byName["thunderline_drift_feature_psi"]
	if psi == nil || len(psi.Metric) == 0 {
		t.Fatal("no feature drift")
	}
	for _, m := range psi.Metric {
		if v := m.Gauge.GetValue(); v < 0 || math.IsNaN(v) {
			t.Fatalf("psi %v", v)
		}
	}
}

// TestPSI: the same distribution gives a PSI near 0, a shifted one a large
// PSI (above 0.25, the usual "significant shift" line).
func TestPSI(t *testing.T) {
	feed := func(tel *telemetry, shift float64, n int, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 1))
		p := &Pipeline{}
		for i := 0; i < n; i++ {
			var w window.FeatureWindow
			w.Features[window.FMidReturn] = rng.NormFloat64() + shift
			tel.window(p, &w)
		}
	}
	var same, shifted telemetry
	feed(&same, 0, driftWindow, 1)
	feed(&same, 0, driftWindow, 2)
	feed(&shifted, 0, driftWindow, 1)
	feed(&shifted, 1.5, driftWindow, 2)
	a, b := same.psi()[window.FMidReturn], shifted.psi()[window.FMidReturn]
	if a > 0.1 || b < 0.25 {
		t.Fatalf("psi same %v, shifted %v", a, b)
	}
}
