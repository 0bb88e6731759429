package postgres

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"thunderline/hotpath/decide"
	"thunderline/hotpath/filing"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
)

// Journal record kinds, copied from thunderline/engine/records.go (engine
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
)

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
	}
	return ""
}

// decodeSymbol is engine/records.go decodeSymbol.
func decodeSymbol(b []byte) (uint32, string, error) {
	if len(b) < 5 || len(b) > 4+255 {
		return 0, "", fmt.Errorf("symbol record of %d bytes: want 5 to 259", len(b))
	}
	return binary.LittleEndian.Uint32(b), string(b[4:]), nil
}

// checkText refuses what a PostgreSQL text column refuses (invalid UTF-8,
// NUL), so one bad name becomes a rejects row instead of a batch that can
// never commit.
func checkText(what, s string) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%s %q: not valid UTF-8 text", what, s)
	}
	return nil
}

func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// jsonw builds small JSON documents without reflection. Non-finite floats
// are written as null (JSON has no NaN).
type jsonw struct{ b []byte }

func (w *jsonw) raw(s string) { w.b = append(w.b, s...) }
func (w *jsonw) key(k string) {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' && w.b[n-1] != '[' {
		w.b = append(w.b, ',')
	}
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
}

// appendJSONString appends s as a JSON string that jsonb accepts: quotes,
// backslashes and control characters escaped, NUL (which jsonb refuses) and
// invalid UTF-8 as U+FFFD. Plain ASCII, every key here, is copied as is.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == 0 || c >= utf8.RuneSelf:
			b = append(b, `\ufffd`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

func (w *jsonw) sep() {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' && w.b[n-1] != '[' {
		w.b = append(w.b, ',')
	}
}
func (w *jsonw) f64(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = strconv.AppendFloat(w.b, v, 'g', -1, 64)
}
func (w *jsonw) f32(v float32) {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = strconv.AppendFloat(w.b, float64(v), 'g', -1, 32)
}
func (w *jsonw) i64(v int64)  { w.b = strconv.AppendInt(w.b, v, 10) }
func (w *jsonw) u64(v uint64) { w.b = strconv.AppendUint(w.b, v, 10) }
func (w *jsonw) str(s string) { w.b = appendJSONString(w.b, s) }
func (w *jsonw) bool(v bool)  { w.b = strconv.AppendBool(w.b, v) }
func (w *jsonw) done() []byte { out := w.b; w.b = nil; return out }

func labelSpecJSON(l window.LabelSpec) []byte {
	var w jsonw
	w.raw("{")
	w.key("horizon_ns")
	w.i64(l.Horizon)
	w.key("type")
	w.str(l.Type.String())
	w.key("threshold_bps")
	w.f64(l.ThresholdBps)
	w.raw("}")
	return w.done()
}

func tickJSON(t *record.MarketTick, detail *record.Reject) []byte {
	var w jsonw
	w.raw("{")
	w.key("ts_recv")
	w.i64(t.TsRecv)
	w.key("seq")
	w.u64(t.Seq)
	w.key("order_id")
	w.u64(t.OrderID)
	w.key("bid_px")
	w.i64(t.BidPx)
	w.key("ask_px")
	w.i64(t.AskPx)
	w.key("trade_px")
	w.i64(t.TradePx)
	w.key("price")
	w.i64(t.Price)
	w.key("bid_qty")
	w.u64(uint64(t.BidQty))
	w.key("ask_qty")
	w.u64(uint64(t.AskQty))
	w.key("trade_qty")
	w.u64(uint64(t.TradeQty))
	w.key("size")
	w.u64(uint64(t.Size))
	w.key("venue")
	w.u64(uint64(t.Venue))
	w.key("flags")
	w.u64(uint64(t.Flags))
	w.key("kind")
	w.u64(uint64(t.Kind))
	w.key("action")
	w.u64(uint64(t.Action))
	w.key("side")
	w.u64(uint64(t.Side))
	w.key("depth")
	w.u64(uint64(t.Depth))
	if detail != nil {
		w.key("ts_event")
		w.i64(t.TsEvent)
		w.key("in_seq")
		w.u64(t.InSeq)
		w.key("symbol_id")
		w.u64(uint64(t.Symbol))
		w.key("detail")
		w.i64(detail.Detail)
	}
	w.raw("}")
	return w.done()
}

func windowRow(d *window.DecodedWindow, jid string, off uint64) ([]any, error) {
	fw := &d.Window
	kind, status := fw.Kind.String(), fw.Status.String()
	if kind == "invalid" {
		return nil, fmt.Errorf("window kind %d", fw.Kind)
	}
	if status == "invalid" {
		return nil, fmt.Errorf("window status %d", fw.Status)
	}
	var w jsonw
	w.raw("{")
	for _, f := range fw.Recipe.Features() {
		w.key(f.String())
		w.f64(fw.Features[f.Slot()])
	}
	w.raw("}")
	features := w.done()
	if fw.Kind == window.KindEdgar {
		prov, err := edgarProvJSON(d)
		if err != nil {
			return nil, err
		}
		return []any{fw.ID, d.Tenant, kind, d.Key, nsTime(fw.Start), nsTime(fw.End), fw.Start, fw.End, status,
			features, labelSpecJSON(fw.Label), int32(fw.SchemaVersion), prov, d.Hash[:], jid, int64(off)}, nil
	}
	w.raw("{")
	w.key("first_inseq")
	w.u64(fw.FirstInSeq)
	w.key("last_inseq")
	w.u64(fw.LastInSeq)
	w.key("ticks")
	w.u64(uint64(fw.Ticks))
	w.key("recipe")
	w.str(fw.Recipe.String())
	w.key("recipe_version")
	w.u64(uint64(fw.Recipe))
	w.raw("}")
	prov := w.done()
	return []any{fw.ID, d.Tenant, kind, d.Key, nsTime(fw.Start), nsTime(fw.End), fw.Start, fw.End, status,
		features, labelSpecJSON(fw.Label), int32(fw.SchemaVersion), prov, d.Hash[:], jid, int64(off)}, nil
}

func labelRow(tenant string, d *window.DecodedLabel, jid string, off uint64) []any {
	l := &d.Label
	return []any{tenant, l.WindowID, d.Key, nsTime(l.End), labelSpecJSON(l.Label), l.Valid, l.MidEnd, l.MidTarget,
		l.Value, l.Hash[:], jid, int64(off)}
}

func traceRow(d *decide.DecodedTrace, jid string, off uint64) []any {
	t := &d.Trace
	var w jsonw
	w.raw("{")
	for i := 0; i < int(t.NGates); i++ {
		w.key(strconv.Itoa(i))
		w.f32(t.Gates[i])
	}
	w.raw("}")
	gates := w.done()
	w.raw("[")
	for l := 0; l < int(t.Layers); l++ {
		for k := 0; k < int(t.NSel[l]); k++ {
			a := &t.Actions[l][k]
			w.sep()
			w.raw("{")
			w.key("layer")
			w.u64(uint64(a.Layer))
			w.key("expert")
			w.u64(uint64(a.Expert))
			w.raw("}")
		}
	}
	w.raw("]")
	selected := w.done()
	w.raw("[")
	for l := 0; l < int(t.Layers); l++ {
		for k := 0; k < int(t.NSel[l]); k++ {
			a := &t.Actions[l][k]
			w.sep()
			w.raw("{")
			w.key("layer")
			w.u64(uint64(a.Layer))
			w.key("expert")
			w.u64(uint64(a.Expert))
			w.key("abstain")
			w.bool(a.Abstain)
			w.key("gate")
			w.f32(a.Gate)
			w.key("scores")
			w.raw("[")
			for i, s := range a.Scores {
				if i > 0 {
					w.raw(",")
				}
				w.f32(s)
			}
			w.raw("]")
			w.key("confidence")
			w.f32(a.Confidence)
			w.key("latency_ns")
			w.i64(a.LatencyNs)
			w.raw("}")
		}
	}
	w.raw("]")
	actions := w.done()
	w.raw("{")
	w.key("proposed")
	w.str(decide.ActionName(t.Proposed))
	w.key("action")
	w.str(decide.ActionName(t.Action))
	w.key("scores")
	w.raw("[")
	for i, s := range t.Scores {
		if i > 0 {
			w.raw(",")
		}
		w.f32(s)
	}
	w.raw("]")
	w.key("confidence")
	w.f32(t.Confidence)
	w.raw("}")
	blended := w.done()
	w.raw("{")
	w.key("position")
	w.i64(t.Position)
	w.key("mid")
	w.f64(t.Mid)
	w.key("pnl")
	w.f64(t.PnL)
	w.raw("}")
	pnl := w.done()
	w.raw("[")
	for _, n := range decide.RiskNames(t.RiskFlags) {
		w.sep()
		w.str(n)
	}
	w.raw("]")
	risk := w.done()
	behavior := make([]byte, len(t.Behavior))
	for i, v := range t.Behavior {
		behavior[i] = byte(v)
	}
	return []any{t.ID, d.Tenant, t.WindowID, append([]byte(nil), t.WindowHash[:]...), d.Key, nsTime(t.End),
		int64(t.RouterVersion), gates, selected, actions, blended, pnl, risk, behavior,
		append([]byte(nil), t.Hash[:]...), t.LatencyNs, jid, int64(off)}
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

// edgarProvJSON is the provenance of an EDGAR window: its extension
// (accession, documents, facts used, sections, sentiment, embedding).
func edgarProvJSON(d *window.DecodedWindow) ([]byte, error) {
	p, err := filing.DecodeProv(d.Ext)
	if err != nil {
		return nil, err
	}
	fw := &d.Window
	var w jsonw
	w.raw("{")
	w.key("recipe")
	w.str(fw.Recipe.String())
	w.key("recipe_version")
	w.u64(uint64(fw.Recipe))
	w.key("first_inseq")
	w.u64(fw.FirstInSeq)
	w.key("last_inseq")
	w.u64(fw.LastInSeq)
	w.key("cik")
	w.u64(p.CIK)
	w.key("form")
	w.str(p.Form)
	w.key("accession")
	w.str(p.Accession)
	w.key("period_start_ns")
	w.i64(p.PeriodStart)
	w.key("period_end_ns")
	w.i64(p.PeriodEnd)
	w.key("filing_time_ns")
	w.i64(p.FilingTime)
	w.key("time_basis")
	w.str(p.TimeBasis)
	w.key("prev_accession")
	w.str(p.PrevAccession)
	w.key("docs")
	strArray(&w, p.Docs)
	w.key("facts")
	w.raw("[")
	for _, f := range p.Facts {
		w.sep()
		w.raw("{")
		w.key("role")
		w.str(f.Role)
		w.key("concept")
		w.str(f.Concept)
		w.key("value")
		w.str(f.Value)
		w.key("unit")
		w.str(f.Unit)
		w.key("period")
		w.str(f.Period)
		w.raw("}")
	}
	w.raw("]")
	w.key("sections")
	w.raw("[")
	for _, s := range p.Sections {
		w.sep()
		w.raw("{")
		w.key("item")
		w.str(s.Item)
		w.key("chars")
		w.u64(uint64(s.Chars))
		w.key("words")
		w.u64(uint64(s.Words))
		w.raw("}")
	}
	w.raw("]")
	s := p.Sentiment
	w.key("sentiment")
	w.raw("{")
	for _, kv := range [...]struct {
		k string
		v uint32
	}{{"words", s.Words}, {"positive", s.Positive}, {"negative", s.Negative}, {"uncertainty", s.Uncertainty},
		{"litigious", s.Litigious}, {"constraining", s.Constraining}} {
		w.key(kv.k)
		w.u64(uint64(kv.v))
	}
	w.key("fell_back")
	w.bool(s.FellBack)
	w.raw("}")
	w.key("embedding")
	w.raw("[")
	for i, v := range p.Embedding {
		if i > 0 {
			w.raw(",")
		}
		w.f32(v)
	}
	w.raw("]")
	w.key("missing")
	strArray(&w, p.Missing)
	w.raw("}")
	return w.done(), nil
}

func strArray(w *jsonw, ss []string) {
	w.raw("[")
	for _, s := range ss {
		w.sep()
		w.str(s)
	}
	w.raw("]")
}

// edgarDocRow is a raw_edgar_docs row: sections as {item: text} (with
// part and title beside), facts as a list, as the seed's EDGARDoc.
func edgarDocRow(tenant string, p []byte, jid string, off uint64) ([]any, error) {
	d, err := filing.DecodeDoc(p)
	if err != nil {
		return nil, err
	}
	for _, t := range []string{d.Name, d.Source, d.Form, d.Accession, d.Company} {
		if err := checkText("edgar document field", t); err != nil {
			return nil, err
		}
	}
	hash := sha256.Sum256(p)
	id := filing.DocID(hash)
	var w jsonw
	w.raw("{")
	for _, s := range d.Sections {
		k := s.Item
		if s.Part != "" {
			k = s.Part + "/" + s.Item
		}
		w.key(k)
		w.raw("{")
		w.key("title")
		w.str(s.Title)
		w.key("text")
		w.str(s.Text)
		w.raw("}")
	}
	w.raw("}")
	sections := w.done()
	w.raw("[")
	for _, f := range d.Facts {
		w.sep()
		w.raw("{")
		w.key("fact")
		w.str(f.Concept)
		w.key("value")
		w.str(f.Value)
		w.key("context")
		w.raw("{")
		w.key("unit")
		w.str(f.Unit)
		w.key("decimals")
		w.str(f.Decimals)
		w.key("start")
		w.str(f.Start)
		w.key("end")
		w.str(f.End)
		w.key("dimensions")
		w.raw("{")
		for _, dm := range f.Dims {
			w.key(dm.Axis)
			w.str(dm.Member)
		}
		w.raw("}")
		w.raw("}")
		w.raw("}")
	}
	w.raw("]")
	facts := w.done()
	w.raw("[")
	for _, is := range d.Issues {
		w.sep()
		w.str(is)
	}
	w.raw("]")
	issues := w.done()
	var filed, period any
	if d.FilingTime != 0 {
		filed = nsTime(d.FilingTime)
	}
	if d.PeriodEnd != 0 {
		period = nsTime(d.PeriodEnd)
	}
	return []any{id, tenant, strconv.FormatUint(d.CIK, 10), d.Form, filed, period, sections, facts, hash[:],
		d.Name, d.Source, d.Accession, d.Company, d.Raw[:], int64(d.Size), issues, jid, int64(off)}, nil
}

// edgarRejectRow is a rejects row for a document the engine could not read.
func edgarRejectRow(tenant string, p []byte, jid string, off uint64) ([]any, error) {
	if len(p) < 8 {
		return nil, fmt.Errorf("edgar_reject record of %d bytes", len(p))
	}
	inseq := binary.LittleEndian.Uint64(p)
	p = p[8:]
	var f [3]string
	for i := range f {
		if len(p) < 4 {
			return nil, fmt.Errorf("edgar_reject record: field %d cut", i)
		}
		n := binary.LittleEndian.Uint32(p)
		if uint64(len(p)-4) < uint64(n) {
			return nil, fmt.Errorf("edgar_reject record: field %d of %d bytes, %d left", i, n, len(p)-4)
		}
		f[i] = string(p[4 : 4+n])
		p = p[4+n:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("edgar_reject record: %d trailing bytes", len(p))
	}
	var w jsonw
	w.raw("{")
	w.key("inseq")
	w.u64(inseq)
	w.key("name")
	w.str(f[0])
	w.key("kind")
	w.str(f[1])
	w.raw("}")
	reason := f[2]
	if err := checkText("reason", reason); err != nil {
		reason = strings.ToValidUTF8(strings.ReplaceAll(reason, "\x00", ""), "?")
	}
	return []any{tenant, jid, int64(off), "edgar", int32(recEdgarReject), reason, w.done(), nil}, nil
}

// shadowJSON is the outbox payload of a shadow decision: a candidate
// expert's output on a routed window (it never voted).
func shadowJSON(d *decide.DecodedShadow) []byte {
	var w jsonw
	w.raw("{")
	w.key("trace_id")
	w.str(window.FormatUUID(d.TraceID))
	w.key("feature_window_id")
	w.str(window.FormatUUID(d.WindowID))
	w.key("key")
	w.str(d.Key)
	w.key("router_version")
	w.u64(d.RouterVersion)
	w.key("window_end_ns")
	w.i64(d.End)
	w.key("expert_id")
	w.str(window.FormatUUID(d.ExpertID))
	w.key("expert_index")
	w.u64(uint64(d.Action.Expert))
	w.key("action")
	w.str(decide.ActionName(d.Action.Action()))
	w.key("abstain")
	w.bool(d.Action.Abstain)
	w.key("scores")
	w.raw("[")
	for i, v := range d.Action.Scores {
		if i > 0 {
			w.raw(",")
		}
		w.f32(v)
	}
	w.raw("]")
	w.key("confidence")
	w.f32(d.Action.Confidence)
	w.key("hash")
	w.str(hex.EncodeToString(d.Hash[:]))
	w.raw("}")
	return w.done()
}
