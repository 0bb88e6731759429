package postgres

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"thunderline/hotpath/decide"
	"thunderline/hotpath/window"
)

// The rows of the market path's records: feature windows (and the EDGAR
// ones, whose provenance records_edgar.go writes), label fills, decision
// traces and shadow decisions.

// windowRow is a feature_windows row.
func windowRow(_ *batch, r *rec) ([]any, error) {
	d, err := window.DecodeWindowRecord(r.p)
	if err != nil {
		return nil, err
	}
	if err := checkOwner(r, "window", d.Key, d.Tenant); err != nil {
		return nil, err
	}
	fw := &d.Window
	kind, status := fw.Kind.String(), fw.Status.String()
	if kind == "invalid" {
		return nil, fmt.Errorf("window kind %d", fw.Kind)
	}
	if status == "invalid" {
		return nil, fmt.Errorf("window status %d", fw.Status)
	}
	var w jsonw
	w.open('{')
	for _, f := range fw.Recipe.Features() {
		w.key(f.String()).f64(fw.Features[f.Slot()])
	}
	w.close('}')
	features := w.done()
	var prov []byte
	if fw.Kind == window.KindEdgar {
		if prov, err = edgarProvJSON(&d); err != nil {
			return nil, err
		}
	} else {
		w.open('{')
		w.key("first_inseq").u64(fw.FirstInSeq)
		w.key("last_inseq").u64(fw.LastInSeq)
		w.key("ticks").u64(uint64(fw.Ticks))
		w.key("recipe").str(fw.Recipe.String())
		w.key("recipe_version").u64(uint64(fw.Recipe))
		w.close('}')
		prov = w.done()
	}
	return []any{fw.ID, d.Tenant, kind, d.Key, nsTime(fw.Start), nsTime(fw.End), fw.Start, fw.End, status,
		features, labelSpecJSON(fw.Label), int32(fw.SchemaVersion), prov, d.Hash[:], r.jid, int64(r.off)}, nil
}

func labelSpecJSON(l window.LabelSpec) []byte {
	var w jsonw
	w.open('{')
	w.key("horizon_ns").i64(l.Horizon)
	w.key("type").str(l.Type.String())
	w.key("threshold_bps").f64(l.ThresholdBps)
	w.close('}')
	return w.done()
}

// labelRow is a window_labels row.
func labelRow(_ *batch, r *rec) ([]any, error) {
	d, err := window.DecodeLabel(r.p)
	if err != nil {
		return nil, err
	}
	if err := checkText("label key", d.Key); err != nil {
		return nil, err
	}
	l := &d.Label
	return []any{r.tenant, l.WindowID, d.Key, nsTime(l.End), labelSpecJSON(l.Label), l.Valid, l.MidEnd, l.MidTarget,
		l.Value, l.Hash[:], r.jid, int64(r.off)}, nil
}

// traceRow is a decision_traces row.
func traceRow(_ *batch, r *rec) ([]any, error) {
	d, err := decide.DecodeTraceRecord(r.p)
	if err != nil {
		return nil, err
	}
	if err := checkOwner(r, "trace", d.Key, d.Tenant); err != nil {
		return nil, err
	}
	t := &d.Trace
	var w jsonw
	w.open('{')
	for i := 0; i < int(t.NGates); i++ {
		w.key(strconv.Itoa(i)).f32(t.Gates[i])
	}
	w.close('}')
	gates := w.done()
	selected, actions := expertsJSON(t)
	w.open('{')
	w.key("proposed").str(decide.ActionName(t.Proposed))
	w.key("action").str(decide.ActionName(t.Action))
	w.key("scores").f32s(t.Scores[:])
	w.key("confidence").f32(t.Confidence)
	w.close('}')
	blended := w.done()
	w.open('{')
	w.key("position").i64(t.Position)
	w.key("mid").f64(t.Mid)
	w.key("pnl").f64(t.PnL)
	w.close('}')
	pnl := w.done()
	w.strs(decide.RiskNames(t.RiskFlags))
	risk := w.done()
	behavior := make([]byte, len(t.Behavior))
	for i, v := range t.Behavior {
		behavior[i] = byte(v)
	}
	return []any{t.ID, d.Tenant, t.WindowID, append([]byte(nil), t.WindowHash[:]...), d.Key, nsTime(t.End),
		int64(t.RouterVersion), gates, selected, actions, blended, pnl, risk, behavior,
		append([]byte(nil), t.Hash[:]...), t.LatencyNs, r.jid, int64(r.off)}, nil
}

// expertsJSON is the experts a trace selected, layer by layer: who
// (selected_experts) and what each said (actions).
func expertsJSON(t *decide.DecisionTrace) (selected, actions []byte) {
	var sel, act jsonw
	sel.open('[')
	act.open('[')
	for l := 0; l < int(t.Layers); l++ {
		for k := 0; k < int(t.NSel[l]); k++ {
			a := &t.Actions[l][k]
			sel.elem().open('{')
			sel.key("layer").u64(uint64(a.Layer))
			sel.key("expert").u64(uint64(a.Expert))
			sel.close('}')
			act.elem().open('{')
			act.key("layer").u64(uint64(a.Layer))
			act.key("expert").u64(uint64(a.Expert))
			act.key("abstain").bool(a.Abstain)
			act.key("gate").f32(a.Gate)
			act.key("scores").f32s(a.Scores[:])
			act.key("confidence").f32(a.Confidence)
			act.key("latency_ns").i64(a.LatencyNs)
			act.close('}')
		}
	}
	sel.close(']')
	act.close(']')
	return sel.done(), act.done()
}

// shadowRow is the outbox row of a shadow decision: a candidate expert's
// output on a routed window (it never voted).
func shadowRow(_ *batch, r *rec) ([]any, error) {
	d, err := decide.DecodeShadow(r.p)
	if err != nil {
		return nil, err
	}
	if err := checkOwner(r, "shadow decision", d.Key, d.Tenant); err != nil {
		return nil, err
	}
	var w jsonw
	w.open('{')
	w.key("trace_id").str(window.FormatUUID(d.TraceID))
	w.key("feature_window_id").str(window.FormatUUID(d.WindowID))
	w.key("key").str(d.Key)
	w.key("router_version").u64(d.RouterVersion)
	w.key("window_end_ns").i64(d.End)
	w.key("expert_id").str(window.FormatUUID(d.ExpertID))
	w.key("expert_index").u64(uint64(d.Action.Expert))
	w.key("action").str(decide.ActionName(d.Action.Action()))
	w.key("abstain").bool(d.Action.Abstain)
	w.key("scores").f32s(d.Action.Scores[:])
	w.key("confidence").f32(d.Action.Confidence)
	w.key("hash").str(hex.EncodeToString(d.Hash[:]))
	w.close('}')
	return []any{r.tenant, "decision.shadow", r.jid, int64(r.off), w.done()}, nil
}
