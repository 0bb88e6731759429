package postgres

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
	"thunderline/persist/tickarchive"
)

// What the shipper makes of each journal record: the row of its table,
// for the run's records and the market path's (ticks, rejects, windows,
// labels, traces, lineage edges, shadow decisions); records_edgar.go holds
// the filings path's.

// Journal record kinds, copied from thunderline/engine/runjournal/kinds.go (engine
// imports persist, so persist cannot import engine). The numbers are on
// disk and never change; keep the two lists equal.
const (
	recMeta        uint8 = 1
	recSymbol      uint8 = 2
	recTick        uint8 = 3
	recReject      uint8 = 4
	recWindow      uint8 = 5
	recLabel       uint8 = 6
	recTrace       uint8 = 7
	recEdge        uint8 = 8
	recEnd         uint8 = 9
	recRouter      uint8 = 10
	recControl     uint8 = 11
	recEdgarRaw    uint8 = 12
	recEdgarDoc    uint8 = 13
	recEdgarReject uint8 = 14
	recShadow      uint8 = 15
	recOperator    uint8 = 16
)

// rec is one journal record being shipped and what its row carries.
type rec struct {
	kind        uint8
	off         uint64
	p           []byte // valid during the decode only: rows hold copies
	tenant, jid string // the journal's tenant and id
}

// rowMaker decodes a record into the row of its table; a nil row with a
// nil error is a record Postgres does not get.
type rowMaker func(b *batch, r *rec) ([]any, error)

// rowOf is, for each record kind, the table its row goes to and how the
// row is made. A kind without one is unknown: a rejects row.
var rowOf = [...]struct {
	table int
	row   rowMaker
}{
	recMeta:        {tOutbox, outboxRow},
	recSymbol:      {tSymbols, symbolRow},
	recTick:        {tTicks, tickRow},
	recReject:      {tRejects, rejectRow},
	recWindow:      {tWindows, windowRow},
	recLabel:       {tLabels, labelRow},
	recTrace:       {tTraces, traceRow},
	recEdge:        {tEdges, edgeRow},
	recEnd:         {tOutbox, outboxRow},
	recRouter:      {tOutbox, outboxRow},
	recControl:     {tOutbox, outboxRow},
	recEdgarRaw:    {tDocs, rawDocRow},
	recEdgarDoc:    {tDocs, edgarDocRow},
	recEdgarReject: {tRejects, edgarRejectRow},
	recShadow:      {tOutbox, shadowRow},
	recOperator:    {tOutbox, outboxRow},
}

// outboxTopic is the outbox topic of the record kinds that go there.
func outboxTopic(kind uint8) string {
	switch kind {
	case recMeta:
		return "run.meta"
	case recEnd:
		return "run.end"
	case recRouter:
		return "run.router"
	case recControl:
		return "run.control"
	case recOperator:
		return "run.operator"
	}
	return ""
}

// validText is what a PostgreSQL text column accepts: valid UTF-8
// without NUL.
func validText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// checkText refuses what a PostgreSQL text column refuses, so one bad name
// becomes a rejects row instead of a batch that can never commit.
func checkText(what, s string) error {
	if !validText(s) {
		return fmt.Errorf("%s %q: not valid UTF-8 text", what, s)
	}
	return nil
}

// checkOwner checks the key and the tenant a decoded record names: the key
// is text, the tenant the journal's.
func checkOwner(r *rec, what, key, tenant string) error {
	if !validText(key) {
		return fmt.Errorf("%s key %q: not valid UTF-8 text", what, key)
	}
	if tenant != r.tenant {
		return fmt.Errorf("%s of tenant %q in a journal of tenant %q", what, tenant, r.tenant)
	}
	return nil
}

func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// outboxRow is an outbox row of a run record: its payload as written.
func outboxRow(_ *batch, r *rec) ([]any, error) {
	return []any{r.tenant, outboxTopic(r.kind), r.jid, int64(r.off), append([]byte{}, r.p...)}, nil
}

// rawDocRow: the raw bytes of an EDGAR document stay in the journal (replay
// reads them there); Postgres gets the parsed document and its sha256.
func rawDocRow(*batch, *rec) ([]any, error) { return nil, nil }

// symbolRow is a journal_symbols row; the shipper keeps the name for the
// ticks that follow.
func symbolRow(b *batch, r *rec) ([]any, error) {
	if len(r.p) < 5 || len(r.p) > 4+255 {
		return nil, fmt.Errorf("symbol record of %d bytes: want 5 to 259", len(r.p))
	}
	id, name := binary.LittleEndian.Uint32(r.p), string(r.p[4:]) // engine/runjournal decodeSymbol
	if err := checkText("symbol name", name); err != nil {
		return nil, err
	}
	b.s.symbols[id] = name
	return []any{r.tenant, r.jid, int32(id), name}, nil
}

// tickRow is a raw_market_ticks row, the tick's fields in the payload.
func tickRow(b *batch, r *rec) ([]any, error) {
	var t record.MarketTick
	if err := record.DecodeTick(r.p, &t); err != nil {
		return nil, err
	}
	name, ok := b.s.symbols[t.Symbol]
	if !ok {
		return nil, fmt.Errorf("tick of symbol id %d before its symbol record", t.Symbol)
	}
	if b.s.opts.Archive != nil {
		b.ticks = append(b.ticks, tickarchive.FromTick(r.tenant, name, r.off, &t))
		b.kept++
		return nil, nil
	}
	return []any{r.tenant, r.jid, int64(r.off), name, int32(t.Symbol), nsTime(t.TsEvent), t.TsEvent, int64(t.InSeq),
		tickJSON(&t, nil)}, nil
}

// rejectRow is a rejects row of a tick the engine refused.
func rejectRow(_ *batch, r *rec) ([]any, error) {
	var rj record.Reject
	if err := record.DecodeReject(r.p, &rj); err != nil {
		return nil, err
	}
	return []any{r.tenant, r.jid, int64(r.off), "engine", int32(r.kind), rj.Reason.String(), tickJSON(&rj.Tick, &rj), nil}, nil
}

// tickJSON is a tick's fields (prices in 1e-9 units); with detail, a
// rejected tick's, with its identity and the reason's detail.
func tickJSON(t *record.MarketTick, detail *record.Reject) []byte {
	var w jsonw
	w.open('{')
	w.key("ts_recv").i64(t.TsRecv)
	w.key("seq").u64(t.Seq)
	w.key("order_id").u64(t.OrderID)
	w.key("bid_px").i64(t.BidPx)
	w.key("ask_px").i64(t.AskPx)
	w.key("trade_px").i64(t.TradePx)
	w.key("price").i64(t.Price)
	w.key("bid_qty").u64(uint64(t.BidQty))
	w.key("ask_qty").u64(uint64(t.AskQty))
	w.key("trade_qty").u64(uint64(t.TradeQty))
	w.key("size").u64(uint64(t.Size))
	w.key("venue").u64(uint64(t.Venue))
	w.key("flags").u64(uint64(t.Flags))
	w.key("kind").u64(uint64(t.Kind))
	w.key("action").u64(uint64(t.Action))
	w.key("side").u64(uint64(t.Side))
	w.key("depth").u64(uint64(t.Depth))
	if detail != nil {
		w.key("ts_event").i64(t.TsEvent)
		w.key("in_seq").u64(t.InSeq)
		w.key("symbol_id").u64(uint64(t.Symbol))
		w.key("detail").i64(detail.Detail)
	}
	w.close('}')
	return w.done()
}

// edgeRow is a lineage_edges row.
func edgeRow(_ *batch, r *rec) ([]any, error) {
	e, err := decide.DecodeEdge(r.p)
	if err != nil {
		return nil, err
	}
	return []any{r.tenant, e.From, e.To, edgeType(e.Type), nsTime(e.At), r.jid, int64(r.off)}, nil
}

func edgeType(t uint8) string {
	switch t {
	case decide.EdgeWindowTrace:
		return "window_trace"
	case decide.EdgeTraceExpert:
		return "trace_expert"
	case decide.EdgeDocWindow:
		return "doc_window"
	case decide.EdgeDocFill:
		return "doc_fill"
	}
	return "type_" + strconv.Itoa(int(t))
}

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
