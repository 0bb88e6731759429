package postgres

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
)

// goldenRows is the rows of goldenRecords as TestRowsGolden prints them.
const goldenRows = "testdata/rows.golden"

var update = flag.Bool("update", false, "rewrite "+goldenRows)

// TestRowsGolden pins the rows batch.add makes of one record of every kind
// (strings that need escaping, NUL, invalid UTF-8, NaN): the JSON of every
// column byte for byte. Regenerate with go test -run TestRowsGolden -update
// only when a change of the rows is meant.
func TestRowsGolden(t *testing.T) {
	s, err := NewShipper(nil, ShipperOptions{Dir: "d", Tenant: "acme", JournalID: "golden"})
	if err != nil {
		t.Fatal(err)
	}
	s.symbols = map[uint32]string{}
	b := newBatch(s, 0)
	for i, r := range goldenRecords() {
		b.add(r.kind, uint64(i), r.p)
	}
	var out strings.Builder
	for i := range b.rows {
		for _, row := range b.rows[i] {
			fmt.Fprintf(&out, "%s:\n", tables[i].name)
			for c, v := range row {
				fmt.Fprintf(&out, "  %s = %s\n", tables[i].cols[c], goldenValue(v))
			}
		}
	}
	if *update {
		if err := os.WriteFile(goldenRows, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenRows)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("rows differ from %s:\n%s", goldenRows, firstDiff(got, string(want)))
	}
}

func goldenValue(v any) string {
	switch v := v.(type) {
	case []byte:
		return fmt.Sprintf("%q", v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case [16]byte:
		return window.FormatUUID(v)
	}
	return fmt.Sprintf("%#v", v)
}

// firstDiff shows the first line that differs.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

type goldenRecord struct {
	kind uint8
	p    []byte
}

// goldenRecords is one record of every kind the shipper ships.
func goldenRecords() []goldenRecord {
	const tenant, key = "acme", "ES\"Z6\\"
	start := time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC).UnixNano()
	end := start + int64(time.Second)
	recs := []goldenRecord{
		{recMeta, []byte("tenant: acme\n")},
		{recSymbol, append(binary.LittleEndian.AppendUint32(nil, 7), key...)},
	}
	tk := record.MarketTick{TsEvent: start, TsRecv: start + 7, Seq: math.MaxUint64, OrderID: 99, InSeq: 12, BidPx: 5_000_000_000_000,
		AskPx: 5_000_250_000_000, TradePx: -3, Price: 4, BidQty: 3, AskQty: 4, TradeQty: 5, Size: 6, Venue: 2, Flags: 0x81,
		Symbol: 7, Kind: record.KindQuote, Action: 1, Side: 2, Depth: 3}
	recs = append(recs, goldenRecord{recTick, record.AppendTick(nil, &tk)})
	rj := record.Reject{Tick: tk, Reason: record.ReasonCrossed, Detail: -42}
	recs = append(recs, goldenRecord{recReject, record.AppendReject(nil, &rj)})

	w := window.FeatureWindow{Start: start, End: end, Kind: window.KindMarket, Recipe: window.RecipeFull,
		SchemaVersion: window.RecipeFull.SchemaVersion(), Status: window.StatusOpen,
		Label:      window.LabelSpec{Horizon: int64(500 * time.Millisecond), Type: window.LabelDelta, ThresholdBps: 1.5},
		FirstInSeq: 4, LastInSeq: 9, Ticks: 6, Symbol: 7}
	for f := range w.Features {
		w.Features[f] = float64(f) / 3
	}
	w.Features[1] = math.NaN()
	w.Features[2] = math.Inf(-1)
	w.ID = window.WindowID(tenant, w.Kind, key, w.Start, w.End, w.Recipe)
	recs = append(recs, goldenRecord{recWindow, window.AppendWindowRecord(nil, &w, tenant, key)})

	ew := window.FeatureWindow{Start: start, End: end, Kind: window.KindEdgar, Recipe: window.RecipeEdgar,
		SchemaVersion: window.RecipeEdgar.SchemaVersion(), Status: window.StatusFilled, FirstInSeq: 1, LastInSeq: 2, Ticks: 1}
	ew.ID = window.WindowID(tenant, ew.Kind, "320193", ew.Start, ew.End, ew.Recipe)
	prov := edgarrec.Prov{CIK: 320193, Form: "10-K", Accession: "0000320193-23-000106", PeriodStart: start - 1, PeriodEnd: start,
		FilingTime: end, TimeBasis: "filed", PrevAccession: "0000320193-22-000108", Docs: []string{"a.htm", "b\tc.xml"},
		Facts: []edgarrec.FactRef{{Role: "revenue", Concept: "us-gaap:Revenues", Value: "383285000000", Unit: "iso4217:USD",
			Period: "2022-09-25..2023-09-30"}, {Role: "assets", Concept: "us-gaap:Assets", Value: "1", Unit: "", Period: "2023-09-30"}},
		Sections:  []edgarrec.SectionRef{{Item: "1A", Chars: 100, Words: 17}, {Item: "7", Chars: 5, Words: 1}},
		Sentiment: edgarrec.Sentiment{Words: 18, Positive: 2, Negative: 3, Uncertainty: 4, Litigious: 5, Constraining: 6, FellBack: true},
		Embedding: []float32{0.25, -1, float32(math.NaN())}, Missing: []string{"previous"}}
	recs = append(recs, goldenRecord{recWindow, window.AppendWindowRecordExt(nil, &ew, tenant, "320193", edgarrec.AppendProv(nil, &prov))})

	l := window.LabelFill{WindowID: w.ID, End: end, Label: w.Label, MidEnd: 5000.125, MidTarget: 5000.5, Value: 0.375, Symbol: 7, Valid: true}
	recs = append(recs, goldenRecord{recLabel, window.AppendLabel(nil, &l, key)})

	tr := decide.DecisionTrace{WindowID: w.ID, RouterVersion: 3, Symbol: 7, End: end, Layers: 2, NGates: 3,
		Gates: [decide.MaxGates]float32{0.5, 0.25, float32(math.Inf(1))}, Proposed: decide.ActionBuy, Action: decide.ActionSell,
		Scores: [3]float32{0.7, 0.2, 0.1}, Confidence: 0.7, Position: -2, Mid: 5000.125, PnL: math.NaN(),
		RiskFlags: 5, LatencyNs: 12345, Batch: 8}
	tr.NSel[0], tr.NSel[1] = 2, 1
	tr.Actions[0][0] = decide.ExpertAction{Layer: 0, Expert: 0, Gate: 0.5, Scores: [3]float32{0.8, 0.1, 0.1}, Confidence: 0.8, LatencyNs: 900}
	tr.Actions[0][1] = decide.ExpertAction{Layer: 0, Expert: 1, Gate: 0.25, Abstain: true, LatencyNs: 1100}
	tr.Actions[1][0] = decide.ExpertAction{Layer: 1, Expert: 3, Gate: 1, Scores: [3]float32{0, 0, 1}, Confidence: 1, LatencyNs: 7}
	for i := range tr.Behavior {
		tr.Behavior[i] = int8(i - 3)
	}
	tr.ID = decide.TraceID(w.ID, tr.RouterVersion)
	recs = append(recs, goldenRecord{recTrace, decide.AppendTraceRecord(nil, &tr, tenant, key)})

	for _, e := range []decide.Edge{{From: w.ID, To: tr.ID, Type: decide.EdgeWindowTrace, At: end},
		{From: tr.ID, To: decide.ExpertID(0, "momentum"), Type: 77, At: end}} {
		recs = append(recs, goldenRecord{recEdge, decide.AppendEdge(nil, &e)})
	}

	tr.NShadow = 1
	tr.Shadows[0] = decide.ShadowAction{Expert: 1, Scores: [3]float32{0.1, 0.6, 0.3}, Confidence: 0.6}
	recs = append(recs, goldenRecord{recShadow, decide.AppendShadow(nil, &tr, 0, decide.ExpertID(1, "fl"), tenant, key)})

	doc := edgarrec.Doc{Name: "edgar/0000320193-23-000106.txt", Source: "sgml", Size: 12345, CIK: 320193, Form: "10-K",
		Accession: "0000320193-23-000106", Company: "Apple Inc.", FilingTime: end, PeriodEnd: start,
		Sections: []edgarrec.Section{{Part: "I", Item: "1A", Title: "Risk Factors", Text: "Our \"results\"\nmay vary \x00 — €\xff."},
			{Item: "7", Title: "MD&A", Text: "<b>ok</b>"}},
		Facts: []edgarrec.Fact{{Concept: "us-gaap:Revenues", Value: "383285000000", Unit: "iso4217:USD", Decimals: "-6",
			Start: "2022-09-25", End: "2023-09-30", Dims: []edgarrec.Dim{{Axis: "srt:Segment", Member: "Americas"}, {Axis: "x", Member: "y"}}},
			{Concept: "dei:Name", Value: "Apple", End: "2023-09-30"}},
		Issues: []string{"fact x left out", "section 2 missing"}}
	doc.Raw[0] = 0xab
	recs = append(recs, goldenRecord{recEdgarDoc, edgarrec.AppendDoc(nil, &doc)})
	recs = append(recs, goldenRecord{recEdgarDoc, edgarrec.AppendDoc(nil, &edgarrec.Doc{Name: "bare", Source: "xbrl"})})

	rej := binary.LittleEndian.AppendUint64(nil, 31)
	for _, f := range []string{"bad.txt", "sgml", "cut at byte 9\x00 \xfe"} {
		rej = binary.LittleEndian.AppendUint32(rej, uint32(len(f)))
		rej = append(rej, f...)
	}
	recs = append(recs, goldenRecord{recEdgarReject, rej}, goldenRecord{recEdgarRaw, []byte("raw bytes")})
	return append(recs, goldenRecord{recRouter, []byte("v3")}, goldenRecord{recControl, []byte("halt")},
		goldenRecord{recEnd, []byte(`{"windows":1}`)}, goldenRecord{recWindow, []byte("TLFW\x01garbage")},
		goldenRecord{200, []byte("unknown kind")})
}
