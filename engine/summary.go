package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"thunderline/engine/edgar"
	"thunderline/engine/report"
	"thunderline/engine/ship"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
)

// Summary is what a run or replay reports at its end (also as JSON).
type Summary struct {
	Inputs     []string          `json:"inputs,omitempty"`
	Partitions int               `json:"partitions"`
	Records    map[string]uint64 `json:"records,omitempty"` // input records by type (DBN inputs)
	Ticks      uint64            `json:"ticks"`
	Applied    uint64            `json:"applied"`
	Rejects    map[string]uint64 `json:"rejects"`   // refused ticks, by reason
	Anomalies  map[string]uint64 `json:"anomalies"` // ticks processed but reported: seq gaps, late
	// FeedEvents are a live feed's sequence events, as journaled: gaps
	// seen, re-requests sent, ranges given up (lost: an anomaly).
	FeedEvents map[string]uint64 `json:"feed_events,omitempty"`
	// FeedChannels are the same by feed channel (its index in
	// feed.moldudp64.channels), when a channel other than the first had any.
	FeedChannels map[string]map[string]uint64 `json:"feed_channels,omitempty"`
	Windows      uint64                       `json:"windows"`
	LabelsFilled uint64                       `json:"labels_filled"`
	LabelsOpen   uint64                       `json:"labels_open"`
	Symbols      []SymbolSummary              `json:"symbols"`
	WindowDigest string                       `json:"window_digest"`
	LabelDigest  string                       `json:"label_digest"`
	Traces       uint64                       `json:"traces"`
	TraceDigest  string                       `json:"trace_digest"`
	// Shadow decisions of the router's shadow experts (candidates that
	// never vote), and their digest; absent without shadow experts.
	ShadowDecisions uint64           `json:"shadow_decisions,omitempty"`
	ShadowDigest    string           `json:"shadow_digest,omitempty"`
	Decisions       *DecisionSummary `json:"decisions,omitempty"`
	Elapsed         report.Seconds   `json:"elapsed_s"`
	TicksPerSec     float64          `json:"ticks_per_s"`
	Journal         *JournalSummary  `json:"journal,omitempty"`
	Postgres        *ship.Summary    `json:"postgres,omitempty"`
	Verify          *VerifyResult    `json:"verify,omitempty"`
	// Cut, on a journal replay, says how the journal did not end as a
	// finished run's does (no end record, a torn tail).
	Cut *JournalCut `json:"cut,omitempty"`
	// Edgar is the summary of a filings replay (the market fields are
	// then empty).
	Edgar *edgar.Summary `json:"edgar,omitempty"`
}

// SymbolSummary counts one symbol.
type SymbolSummary struct {
	Symbol  string `json:"symbol"`
	Ticks   uint64 `json:"ticks"`
	Windows uint64 `json:"windows"`
}

// JournalSummary describes the journal a run wrote.
type JournalSummary struct {
	Dir         string `json:"dir"`
	Records     uint64 `json:"records"`
	Acked       uint64 `json:"acked"`
	BytesRaw    uint64 `json:"bytes_raw"`
	BytesStored uint64 `json:"bytes_stored"`
}

func (p *Pipeline) summary(elapsed time.Duration) *Summary {
	s := &Summary{Inputs: p.opts.Inputs, Partitions: len(p.parts), Ticks: p.disp.Dispatched.Load(),
		Rejects: map[string]uint64{}, Anomalies: map[string]uint64{}, Elapsed: report.Seconds(elapsed)}
	var wd, ld []*window.Digest
	p.eachPart(func(part *partition.Partition) {
		s.Applied += part.C.Applied.Load()
		s.Windows += part.C.Windows.Load()
		s.LabelsFilled += part.C.Labels.Load()
		s.LabelsOpen += uint64(part.Builder().Pending())
		for i := range part.C.Rejects {
			r := record.Reason(i)
			n := part.C.Rejects[i].Load()
			if n == 0 {
				continue
			}
			if r.IsAnomaly() || r == record.ReasonLate {
				s.Anomalies[r.String()] += n
			} else {
				s.Rejects[r.String()] += n
			}
		}
		wd = append(wd, part.Windows)
		ld = append(ld, part.Labels)
	})
	for i, name := range [...]string{"gap", "rerequest", "lost"} {
		if n := p.feedEvents[i].Load(); n > 0 {
			if s.FeedEvents == nil {
				s.FeedEvents = map[string]uint64{}
			}
			s.FeedEvents[name] = n
		}
	}
	byChan := map[string]map[string]uint64{}
	beyondFirst := false
	for ch := range p.chanEvents {
		for i, name := range [...]string{"gap", "rerequest", "lost"} {
			if n := p.chanEvents[ch][i].Load(); n > 0 {
				k := strconv.Itoa(ch)
				if byChan[k] == nil {
					byChan[k] = map[string]uint64{}
				}
				byChan[k][name] = n
				beyondFirst = beyondFirst || ch > 0
			}
		}
	}
	if beyondFirst {
		s.FeedChannels = byChan
	}
	wsum, wcounts := window.Sum(p.syms, wd...)
	lsum, _ := window.Sum(p.syms, ld...)
	s.WindowDigest, s.LabelDigest = hexDigest(wsum), hexDigest(lsum)
	if p.stage != nil {
		tsum, _ := window.Sum(p.syms, p.traces)
		s.Traces, s.TraceDigest = p.nTraces.Load(), hexDigest(tsum)
		if n := p.nShadow.Load(); n > 0 {
			ssum, _ := window.Sum(p.syms, p.shadows)
			s.ShadowDecisions, s.ShadowDigest = n, hexDigest(ssum)
		}
		s.Decisions = p.decisionSummary()
	}
	perWin := map[string]uint64{}
	for _, c := range wcounts {
		perWin[c.Symbol] = c.Count
	}
	for id := 1; id < p.syms.Len(); id++ {
		if n := p.symTick[id]; n > 0 {
			name := p.syms.Name(uint32(id))
			s.Symbols = append(s.Symbols, SymbolSummary{Symbol: name, Ticks: n, Windows: perWin[name]})
		}
	}
	sort.Slice(s.Symbols, func(i, j int) bool { return s.Symbols[i].Symbol < s.Symbols[j].Symbol })
	if unknown := p.symTick[0]; unknown > 0 {
		s.Symbols = append(s.Symbols, SymbolSummary{Symbol: "(unknown)", Ticks: unknown})
	}
	if elapsed > 0 {
		s.TicksPerSec = float64(s.Ticks) / elapsed.Seconds()
	}
	return s
}

// Text writes the summary for people.
func (s *Summary) Text(w io.Writer) {
	if s.Edgar != nil && s.Ticks == 0 {
		s.Edgar.Text(w)
		return
	}
	if s.Edgar != nil {
		defer s.Edgar.Text(w)
	}
	fmt.Fprintf(w, "inputs      %s\n", strings.Join(s.Inputs, ", "))
	fmt.Fprintf(w, "partitions  %d\n", s.Partitions)
	if len(s.Records) > 0 {
		fmt.Fprintf(w, "records     %s\n", kv(s.Records))
	}
	fmt.Fprintf(w, "ticks       %d (%.0f/s), applied %d\n", s.Ticks, s.TicksPerSec, s.Applied)
	fmt.Fprintf(w, "rejects     %s\n", kv(s.Rejects))
	fmt.Fprintf(w, "anomalies   %s\n", kv(s.Anomalies))
	if len(s.FeedEvents) > 0 {
		fmt.Fprintf(w, "feed        %s (sequence events, journaled)\n", kv(s.FeedEvents))
	}
	chans := make([]string, 0, len(s.FeedChannels))
	for ch := range s.FeedChannels {
		chans = append(chans, ch)
	}
	sort.Slice(chans, func(i, j int) bool { // "2" before "10"
		return len(chans[i]) < len(chans[j]) || len(chans[i]) == len(chans[j]) && chans[i] < chans[j]
	})
	for _, ch := range chans {
		fmt.Fprintf(w, "  channel %s %s\n", ch, kv(s.FeedChannels[ch]))
	}
	fmt.Fprintf(w, "windows     %d, labels filled %d, open %d\n", s.Windows, s.LabelsFilled, s.LabelsOpen)
	fmt.Fprintf(w, "symbols     %d\n", len(s.Symbols))
	for i, sym := range s.Symbols {
		if i == 10 {
			fmt.Fprintf(w, "            ... %d more (--json lists all)\n", len(s.Symbols)-10)
			break
		}
		fmt.Fprintf(w, "  %-12s ticks %-10d windows %d\n", sym.Symbol, sym.Ticks, sym.Windows)
	}
	if d := s.Decisions; d != nil {
		fmt.Fprintf(w, "traces      %d (router v%d): %s; risk-flagged %d, halted %d; paper PnL %.4f over %d trades\n",
			s.Traces, d.RouterVersion, kv(d.Actions), d.RiskFlagged, d.Halted, d.PaperPnL, d.Trades)
		fmt.Fprintf(w, "decide      close→trace p50 %v p99 %v p99.9 %v over the last %d\n",
			time.Duration(d.LatencyP50), time.Duration(d.LatencyP99), time.Duration(d.LatencyP999), min(d.LatencyCount, 65536))
		if d.EndCount > 0 {
			fmt.Fprintf(w, "decide      close→trace of the %d windows the end of the input closed: p50 %v p99 %v\n",
				min(d.EndCount, 65536), time.Duration(d.EndP50), time.Duration(d.EndP99))
		}
		if d.WireCount > 0 {
			fmt.Fprintf(w, "decide      packet→trace p50 %v p99 %v p99.9 %v over the last %d (kernel receive stamps)\n",
				time.Duration(d.WireP50), time.Duration(d.WireP99), time.Duration(d.WireP999), min(d.WireCount, 65536))
		}
	}
	fmt.Fprintf(w, "window_digest %s\n", s.WindowDigest)
	fmt.Fprintf(w, "label_digest  %s\n", s.LabelDigest)
	if s.TraceDigest != "" {
		fmt.Fprintf(w, "trace_digest  %s\n", s.TraceDigest)
	}
	if s.ShadowDigest != "" {
		fmt.Fprintf(w, "shadow_digest %s (%d shadow decisions, never voting)\n", s.ShadowDigest, s.ShadowDecisions)
	}
	if j := s.Journal; j != nil {
		ratio := 0.0
		if j.BytesStored > 0 {
			ratio = float64(j.BytesRaw) / float64(j.BytesStored)
		}
		fmt.Fprintf(w, "journal     %s: %d records, %d acked, %.1f MiB stored (%.1f× compressed)\n",
			j.Dir, j.Records, j.Acked, float64(j.BytesStored)/(1<<20), ratio)
	}
	if pg := s.Postgres; pg != nil {
		state := "complete"
		if !pg.CaughtUp {
			state = fmt.Sprintf("INCOMPLETE, %d journal records not in Postgres (finish with: %s)", pg.Left, pg.Finish)
		}
		fmt.Fprintf(w, "postgres    %s: %d rows in %d batches (%.0f rows/s), rejects %d, errors %d\n",
			state, pg.Rows, pg.Batches, pg.RowsPerSec, pg.Rejects, pg.Errors)
		fmt.Fprintf(w, "            decision data: %s, commit lag p50 %v p99 %v; raw ticks: %s\n",
			laneState(pg.Decisions), time.Duration(pg.Decisions.CommitLagP50).Round(time.Millisecond),
			time.Duration(pg.Decisions.CommitLagP99).Round(time.Millisecond), laneState(pg.Ticks))
	}
	if c := s.Cut; c != nil {
		fmt.Fprintf(w, "cut         %s\n", c.Text())
	}
	if v := s.Verify; v != nil {
		v.Text(w)
	}
	fmt.Fprintf(w, "elapsed     %.3fs\n", time.Duration(s.Elapsed).Seconds())
}

func kv(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}

// endRecord is the last record of a run's journal.
type endRecord struct {
	Ticks        uint64 `json:"ticks"`
	Windows      uint64 `json:"windows"`
	LabelsFilled uint64 `json:"labels_filled"`
	Traces       uint64 `json:"traces"`
	WindowDigest string `json:"window_digest"`
	LabelDigest  string `json:"label_digest"`
	TraceDigest  string `json:"trace_digest"`
	ShadowDigest string `json:"shadow_digest,omitempty"`
}

func encodeEnd(s *Summary) ([]byte, error) {
	return json.Marshal(endRecord{Ticks: s.Ticks, Windows: s.Windows, LabelsFilled: s.LabelsFilled, Traces: s.Traces,
		WindowDigest: s.WindowDigest, LabelDigest: s.LabelDigest, TraceDigest: s.TraceDigest, ShadowDigest: s.ShadowDigest})
}

// DecisionSummary reports the decision stage of a run.
type DecisionSummary struct {
	RouterVersion uint64             `json:"router_version"`
	Actions       map[string]uint64  `json:"actions"`
	Batches       uint64             `json:"batches"`
	RiskFlagged   uint64             `json:"risk_flagged"`
	Halted        uint64             `json:"halted"`
	Breaches      uint64             `json:"breaches"`
	PaperPnL      float64            `json:"paper_pnl"`
	Trades        uint64             `json:"trades"`
	ExpertPnL     map[string]float64 `json:"expert_pnl"`
	LatencyP50    int64              `json:"close_to_trace_p50_ns"`
	LatencyP99    int64              `json:"close_to_trace_p99_ns"`
	LatencyP999   int64              `json:"close_to_trace_p999_ns"`
	LatencyCount  uint64             `json:"close_to_trace_count"`
	Warmups       uint64             `json:"warmups,omitempty"` // stage.warm
	// The windows the end of the input closed (a run's last, closed
	// together and routed boundary after boundary), measured apart.
	EndP50   int64  `json:"end_close_to_trace_p50_ns,omitempty"`
	EndP99   int64  `json:"end_close_to_trace_p99_ns,omitempty"`
	EndCount uint64 `json:"end_close_to_trace_count,omitempty"`
	// Packet receipt (kernel stamp) → trace, live MoldUDP64 feeds only.
	WireP50   int64  `json:"wire_to_trace_p50_ns,omitempty"`
	WireP99   int64  `json:"wire_to_trace_p99_ns,omitempty"`
	WireP999  int64  `json:"wire_to_trace_p999_ns,omitempty"`
	WireCount uint64 `json:"wire_to_trace_count,omitempty"`
}

func (p *Pipeline) decisionSummary() *DecisionSummary {
	st := p.stage
	m := st.Metrics()
	d := &DecisionSummary{RouterVersion: m.Version.Load(), Actions: map[string]uint64{}, Batches: m.Batches.Load(),
		ExpertPnL: map[string]float64{}}
	for a := range m.Actions {
		if n := m.Actions[a].Load(); n > 0 {
			d.Actions[decide.ActionName(uint8(a))] = n
		}
	}
	d.Breaches, _, d.RiskFlagged, d.Halted, _ = st.RiskCounters()
	d.PaperPnL, d.Trades = st.PaperTotals()
	if cur := st.Current(); cur != nil {
		last := cur.Layers[len(cur.Layers)-1]
		for i, pnl := range st.ExpertPnL() {
			if i < len(last.Experts) {
				d.ExpertPnL[last.Experts[i].Name()] = pnl
			}
		}
	}
	d.LatencyP50, d.LatencyP99, d.LatencyP999, d.LatencyCount = st.Latency()
	d.WireP50, d.WireP99, d.WireP999, d.WireCount = st.WireLatency()
	d.EndP50, d.EndP99, _, d.EndCount = st.EndLatency()
	d.Warmups = m.Warms.Load()
	return d
}

func laneState(l ship.LaneSummary) string {
	what := fmt.Sprintf("%d rows", l.Rows)
	if l.ArchivedFiles > 0 {
		what = fmt.Sprintf("%d archived in %d Parquet files", l.ArchivedTicks, l.ArchivedFiles)
	}
	if l.CaughtUp {
		return fmt.Sprintf("complete (%s)", what)
	}
	return fmt.Sprintf("shipped to record %d (%s)", l.NextOffset, what)
}
