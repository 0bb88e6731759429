package engine

import (
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"thunderline/actors/chief"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
	"thunderline/persist/postgres"
)

// collector exports the pipeline's counters as Prometheus metrics. It reads
// the atomics the data plane writes at scrape time, so nothing is done per
// tick or per batch on the hot path for metrics (seed 004 §9 telemetry
// events, under thunderline_ names).
type collector struct {
	p     *Pipeline
	descs map[string]*prometheus.Desc
}

func (c *collector) desc(name, help string, labels ...string) *prometheus.Desc {
	d, ok := c.descs[name]
	if !ok {
		d = prometheus.NewDesc("thunderline_"+name, help, labels, nil)
		c.descs[name] = d
	}
	return d
}

var metricHelp = []struct{ name, help string }{
	{"ticks_total", "Ticks read from the input and dispatched."},
	{"ticks_applied_total", "Ticks applied to books and windows."},
	{"rejects_total", "Ticks refused, and anomalies reported, by reason."},
	{"windows_total", "Feature windows closed."},
	{"labels_filled_total", "Window labels filled at their horizon."},
	{"flow_market_lag_ms", "How far the newest processed event time trails the wall clock, real-time runs (flow.market.lag_ms)."},
	{"flow_market_backlog", "Ticks waiting in the partition rings."},
	{"feature_fill_latency_ms", "Wall time from a window's end to the window persisted (feature.fill_latency_ms)."},
	{"label_realization_latency_ms", "Wall time from a label's horizon to its fill persisted (label.realization_latency_ms)."},
	{"drift_feature_psi", "Population stability index of the last 512 windows against the first 512, per feature (drift.feature.psi)."},
	{"ring_full_waits_total", "Times a producer found a ring full and waited (backpressure)."},
	{"journal_up", "1 while the journal writes; 0 while it cannot (disk full): decisions are stopped."},
	{"journal_outages_total", "Times the journal could not write and decisions stopped."},
	{"journal_down_seconds_total", "Time the journal could not write, finished outages."},
	{"journal_write_retries_total", "Journal writes that failed and were tried again."},
	{"journal_free_bytes", "Bytes free on the journal's filesystem."},
	{"journal_low_space", "1 while the journal's filesystem has less free space than journal.min_free_bytes."},
	{"journal_acked_records", "Journal records written (acknowledged) in this run."},
	{"journal_retention_deleted_total", "Run journals deleted by retention (journal.keep_for, journal.keep_bytes)."},
	{"journal_retention_freed_bytes_total", "Bytes retention freed."},
	{"journal_retention_kept", "Run journals past a retention limit kept at the last pass: current, locked by a writer, or held by a consumer."},
	{"router_version", "Router configuration version in use."},
	{"router_swaps_total", "Router versions swapped in."},
	{"router_batches_total", "Routing batches decided."},
	{"router_tokens_total", "Windows routed, per layer."},
	{"router_assignment_experts_per_token", "Mean experts kept per token since start, per layer."},
	{"router_load_balance_ratio", "Stddev/mean of tokens per expert in the last batch, per layer."},
	{"router_capacity_utilization", "Used expert slots / available in the last batch, per layer."},
	{"router_entropy", "Mean routing entropy (nats) of the last batch, per layer."},
	{"router_undercovered_token_total", "Tokens no expert picked, per layer."},
	{"router_undercovered_assigned_total", "Undercovered tokens given their best expert with room (argmax policy), per layer."},
	{"router_p_saturation", "Cumulative probability reached by each routed token's kept experts, per layer."},
	{"decisions_total", "Decision traces by final action."},
	{"risk_breach_total", "Decisions that breached a risk limit."},
	{"risk_breach_streaks_total", "Times breaches lasted the configured number of intervals in a row."},
	{"risk_forced_abstain", "1 while high-latency experts are forced to abstain."},
	{"risk_flagged_total", "Decisions replaced by abstain by a risk flag."},
	{"ladder_step", "Backpressure ladder step in force (0 normal … 6 force abstain)."},
	{"ladder_changes_total", "Backpressure ladder step changes."},
	{"ladder_transitions_total", "Backpressure ladder transitions, by the step entered and the direction."},
	{"ladder_intervals_total", "Cadence intervals spent at each ladder step."},
	{"ladder_actions_total", "Ladder actions sent in band (recipe changes, p changes)."},
	{"expert_calls_total", "Expert calls, per expert."},
	{"expert_abstains_total", "Expert abstentions, per expert."},
	{"expert_panics_total", "Expert panics recovered, per expert."},
	{"expert_over_budget_total", "Expert calls slower than their latency budget, per expert."},
	{"shipper_lag_records", "Journal records written and not yet committed to Postgres."},
	{"shipper_lag_seconds", "0 when the Postgres shipper is caught up, else the time since it last was."},
	{"shipper_next_offset", "Journal offset below which every record is in Postgres."},
	{"shipper_batches_total", "Postgres transactions committed by the shipper."},
	{"shipper_lane_next_offset", "Journal offset below which every record of the lane (decisions: windows, labels, traces, lineage, rejects, outbox; ticks: raw ticks) is in Postgres."},
	{"shipper_commit_lag_seconds", "Per lane and quantile, over its last 1,024 batches: a batch's first record appended to the journal (observed through its acknowledged offset) to its commit."},
	{"shipper_rows_total", "Rows inserted into Postgres by the shipper."},
	{"shipper_rows_per_second", "Rows inserted per second since the shipper started."},
	{"shipper_rejects_total", "Journal records the shipper could not decode (rows in rejects)."},
	{"shipper_errors_total", "Failed shipper batches and reconnects."},
	{"shipper_batch_records", "Journal records per committed shipper batch."},
	{"expert_latency_ms", "Expert call latency over the last 1024 calls, per expert and quantile."},
	{"feed_wire_total", "A live feed's transport counts, per name: MoldUDP64 packets, gaps, re-requests, recovered and lost messages, receive stamps, and (feed.moldudp64.xdp) the XDP counter's packets, wire gaps and missed messages at the driver; xdp_packets minus mold_packets were lost in this host."},
	{"decision_latency_seconds", "Latency to the DecisionTrace over the last 65,536 traces, per path (close_to_trace: window close; wire_to_trace: kernel receive time of the packet whose tick closed the window, live MoldUDP64 feeds) and quantile."},
	{"flow_edgar_docs_total", "EDGAR documents read by the filings path (flow.edgar)."},
	{"flow_edgar_bytes_total", "Bytes of EDGAR documents read."},
	{"flow_edgar_rejects_total", "EDGAR documents that could not be read (journaled with their reason)."},
	{"flow_edgar_windows_total", "EDGAR feature window emissions (first emissions and fills)."},
	{"flow_edgar_traces_total", "Decision traces of EDGAR windows."},
	{"flow_edgar_scorer_fallbacks_total", "Sentiment model calls that timed out or failed: the word list answered."},
	{"flow_edgar_throughput", "EDGAR documents per second since the filings path started (flow.edgar.throughput)."},
	{"flow_edgar_queue", "Documents waiting for each filings partition."},
}

func newCollector(p *Pipeline) *collector {
	c := &collector{p: p, descs: map[string]*prometheus.Desc{}}
	labels := map[string][]string{
		"rejects_total": {"reason"}, "ring_full_waits_total": {"ring"},
		"ladder_transitions_total": {"step", "direction"}, "ladder_intervals_total": {"step"},
		"drift_feature_psi":   {"feature"},
		"router_tokens_total": {"layer"}, "router_assignment_experts_per_token": {"layer"},
		"router_load_balance_ratio": {"layer"}, "router_capacity_utilization": {"layer"},
		"router_entropy": {"layer"}, "router_undercovered_token_total": {"layer"},
		"router_undercovered_assigned_total": {"layer"}, "router_p_saturation": {"layer"},
		"decisions_total": {"action"}, "expert_calls_total": {"layer", "expert"},
		"expert_abstains_total": {"layer", "expert"}, "expert_panics_total": {"layer", "expert"},
		"expert_over_budget_total": {"layer", "expert"}, "expert_latency_ms": {"layer", "expert", "quantile"},
		"decision_latency_seconds": {"path", "quantile"}, "shipper_lane_next_offset": {"lane"}, "shipper_commit_lag_seconds": {"lane", "quantile"}, "feed_wire_total": {"name"},
		"flow_edgar_queue": {"partition"},
	}
	for _, m := range metricHelp {
		c.desc(m.name, m.help, labels[m.name]...)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	e := emitter{ch: ch, descs: c.descs}
	c.collectFlow(e)
	c.collectEdgar(e)
	c.collectLadder(e)
	c.collectShipper(e)
	c.collectJournal(e)
	c.collectStage(e)
	if wc := c.p.wire.Load(); wc != nil {
		for k, v := range (*wc).WireCounts() {
			e.counter("feed_wire_total", float64(v), k)
		}
	}
}

// emitter sends the metrics of one scrape.
type emitter struct {
	ch    chan<- prometheus.Metric
	descs map[string]*prometheus.Desc
}

func (e emitter) counter(name string, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(e.descs[name], prometheus.CounterValue, v, labels...)
}

func (e emitter) gauge(name string, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(e.descs[name], prometheus.GaugeValue, v, labels...)
}

func (e emitter) histogram(name string, count uint64, sum float64, buckets map[float64]uint64, labels ...string) {
	e.ch <- prometheus.MustNewConstHistogram(e.descs[name], count, sum, buckets, labels...)
}

// collectJournal: the journal's health (durable.go), if the run has one.
func (c *collector) collectJournal(e emitter) {
	p := c.p
	if p.jsink == nil {
		return
	}
	h := &p.jh
	e.gauge("journal_up", b2f(!h.isDown.Load()))
	e.counter("journal_outages_total", float64(h.outages.Load()))
	e.counter("journal_down_seconds_total", float64(h.downNs.Load())/1e9)
	e.counter("journal_write_retries_total", float64(p.jour.Stats().WriteRetries))
	if f := h.free.Load(); f >= 0 {
		e.gauge("journal_free_bytes", float64(f))
	}
	e.gauge("journal_low_space", b2f(h.low.Load()))
	e.gauge("journal_acked_records", float64(p.jour.Acked()))
	e.counter("journal_retention_deleted_total", float64(p.retention.deleted.Load()))
	e.counter("journal_retention_freed_bytes_total", float64(p.retention.freed.Load()))
	e.gauge("journal_retention_kept", float64(p.retention.kept.Load()))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// collectEdgar: the filings path beside the run, if any.
func (c *collector) collectEdgar(e emitter) {
	p := c.p
	if l := p.edgarLive; l != nil {
		if ec, ok := l.Counts(); ok {
			e.counter("flow_edgar_docs_total", float64(ec.Docs))
			e.counter("flow_edgar_bytes_total", float64(ec.Bytes))
			e.counter("flow_edgar_rejects_total", float64(ec.Rejected))
			e.counter("flow_edgar_windows_total", float64(ec.Windows))
			e.counter("flow_edgar_traces_total", float64(ec.Traces))
			e.counter("flow_edgar_scorer_fallbacks_total", float64(ec.Fallbacks))
			if s := ec.Elapsed.Seconds(); s > 0 {
				e.gauge("flow_edgar_throughput", float64(ec.Docs)/s)
			}
			for i := 0; i < p.edgarParts(); i++ {
				n, _ := l.Queue(i)
				e.gauge("flow_edgar_queue", float64(n), strconv.Itoa(i))
			}
		}
	}
}

// collectFlow: the reader, the partitions, and the telemetry of windows
// and labels.
func (c *collector) collectFlow(e emitter) {
	p := c.p
	e.counter("ticks_total", float64(p.disp.Dispatched.Load()))
	e.counter("ring_full_waits_total", float64(p.disp.Waits.Load()), "partition")
	var applied, windows, labels, outWaits, backlog uint64
	var rejects [record.NumReasons]uint64
	p.eachPart(func(part *partition.Partition) {
		applied += part.C.Applied.Load()
		windows += part.C.Windows.Load()
		labels += part.C.Labels.Load()
		outWaits += part.C.OutWaits.Load()
		backlog += uint64(p.inRings[part.ID].Len())
		for i := range part.C.Rejects {
			rejects[i] += part.C.Rejects[i].Load()
		}
	})
	e.counter("ticks_applied_total", float64(applied))
	e.counter("windows_total", float64(windows))
	e.counter("labels_filled_total", float64(labels))
	e.counter("ring_full_waits_total", float64(outWaits), "output")
	e.gauge("flow_market_backlog", float64(backlog))
	e.gauge("flow_market_lag_ms", float64(p.Snapshot(time.Unix(0, p.startWall.Load())).Lag)/1e6)
	p.tel.mu.Lock()
	fc, fs, fb := p.tel.fill.snapshot()
	lc, ls, lb := p.tel.labelH.snapshot()
	p.tel.mu.Unlock()
	e.histogram("feature_fill_latency_ms", fc, fs, fb)
	e.histogram("label_realization_latency_ms", lc, ls, lb)
	for f, v := range p.tel.psi() {
		if !math.IsNaN(v) {
			e.gauge("drift_feature_psi", v, window.Feature(f).String())
		}
	}
	for i := 1; i < record.NumReasons; i++ {
		e.counter("rejects_total", float64(rejects[i]), record.Reason(i).String())
	}
}

// collectLadder: the backpressure ladder, if it runs.
func (c *collector) collectLadder(e emitter) {
	if l := c.p.ladder; l != nil {
		e.gauge("ladder_step", float64(l.Step.Load()))
		e.counter("ladder_changes_total", float64(l.Changes.Load()))
		e.counter("ladder_actions_total", float64(l.ActionsSent.Load()))
		lc := l.l.Counters()
		for step := range lc.Up {
			name := chief.StepName(step)
			e.counter("ladder_transitions_total", float64(lc.Up[step]), name, "up")
			e.counter("ladder_transitions_total", float64(lc.Down[step]), name, "down")
			e.counter("ladder_intervals_total", float64(lc.At[step]), name)
		}
	}
}

// collectShipper: the Postgres shipper, if it runs.
func (c *collector) collectShipper(e emitter) {
	if sh := c.p.shipping.Load(); sh != nil {
		ss := sh.Stats()
		e.gauge("shipper_lag_records", float64(ss.Lag))
		e.gauge("shipper_lag_seconds", ss.LagSeconds)
		e.gauge("shipper_next_offset", float64(ss.NextOffset))
		e.counter("shipper_batches_total", float64(ss.Batches))
		e.counter("shipper_rows_total", float64(ss.Rows))
		e.gauge("shipper_rows_per_second", ss.RowsPerSec)
		e.counter("shipper_rejects_total", float64(ss.Rejects))
		e.counter("shipper_errors_total", float64(ss.Errors))
		buckets := map[float64]uint64{}
		var cum uint64
		for i, ub := range postgres.BatchSizeBounds {
			cum += ss.BatchSizes[i]
			buckets[float64(ub)] = cum
		}
		e.histogram("shipper_batch_records", ss.Batches, float64(ss.Records), buckets)
		d, t := sh.LaneStats()
		for _, l := range []struct {
			name string
			st   postgres.ShipperStats
		}{{"decisions", d}, {"ticks", t}} {
			e.gauge("shipper_lane_next_offset", float64(l.st.NextOffset), l.name)
			e.gauge("shipper_commit_lag_seconds", l.st.CommitLagP50.Seconds(), l.name, "0.5")
			e.gauge("shipper_commit_lag_seconds", l.st.CommitLagP99.Seconds(), l.name, "0.99")
		}
	}
}

// collectStage: the decision stage, its layers and experts, and risk.
func (c *collector) collectStage(e emitter) {
	st := c.p.stage
	if st == nil {
		return
	}
	m := st.Metrics()
	e.gauge("router_version", float64(m.Version.Load()))
	e.counter("router_swaps_total", float64(m.Swaps.Load()))
	e.counter("router_batches_total", float64(m.Batches.Load()))
	lat := func(path string, f func() (p50, p99, p999 int64, n uint64)) {
		p50, p99, p999, n := f()
		if n == 0 {
			return
		}
		e.gauge("decision_latency_seconds", float64(p50)/1e9, path, "0.5")
		e.gauge("decision_latency_seconds", float64(p99)/1e9, path, "0.99")
		e.gauge("decision_latency_seconds", float64(p999)/1e9, path, "0.999")
	}
	lat("close_to_trace", st.Latency)
	lat("wire_to_trace", st.WireLatency)
	for a := range m.Actions {
		e.counter("decisions_total", float64(m.Actions[a].Load()), decide.ActionName(uint8(a)))
	}
	model := st.Current()
	for l := range model.Layers {
		lm := &m.Layers[l]
		ls := strconv.Itoa(l)
		tokens := lm.Tokens.Load()
		e.counter("router_tokens_total", float64(tokens), ls)
		if tokens > 0 {
			e.gauge("router_assignment_experts_per_token", lm.Pairs.Load()/float64(tokens), ls)
		}
		e.gauge("router_load_balance_ratio", lm.LoadBalanceRatio.Load(), ls)
		e.gauge("router_capacity_utilization", lm.CapacityUtilization.Load(), ls)
		e.gauge("router_entropy", lm.Entropy.Load(), ls)
		e.counter("router_undercovered_token_total", float64(lm.Undercovered.Load()), ls)
		e.counter("router_undercovered_assigned_total", float64(lm.UndercoveredArgmax.Load()), ls)
		buckets := map[float64]uint64{}
		var cum, count uint64
		var sum float64
		for b := range lm.PSaturation {
			n := lm.PSaturation[b].Load()
			cum += n
			buckets[float64(b+1)/10] = cum
			sum += float64(n) * (float64(b) + 0.5) / 10 // bucket midpoints: the sum is approximate
			count += n
		}
		e.histogram("router_p_saturation", count, sum, buckets, ls)
		for _, g := range model.Layers[l].Experts {
			gs := g.Stats()
			e.counter("expert_calls_total", float64(gs.Calls), ls, gs.Name)
			e.counter("expert_abstains_total", float64(gs.Abstains), ls, gs.Name)
			e.counter("expert_panics_total", float64(gs.Panics), ls, gs.Name)
			e.counter("expert_over_budget_total", float64(gs.OverBudget), ls, gs.Name)
			e.gauge("expert_latency_ms", gs.P50.Seconds()*1e3, ls, gs.Name, "0.5")
			e.gauge("expert_latency_ms", gs.P99.Seconds()*1e3, ls, gs.Name, "0.99")
		}
	}
	breaches, streaks, flagged, _, forcing := st.RiskCounters()
	e.counter("risk_breach_total", float64(breaches))
	e.counter("risk_breach_streaks_total", float64(streaks))
	e.counter("risk_flagged_total", float64(flagged))
	f := 0.0
	if forcing {
		f = 1
	}
	e.gauge("risk_forced_abstain", f)
}

// Registry returns a Prometheus registry holding the pipeline's metrics.
func (p *Pipeline) Registry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(newCollector(p))
	return r
}
