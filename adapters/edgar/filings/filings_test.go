package filings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/hotpath/window"
)

const data = "../../../../shared/data/edgar"

func read(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseFile(t testing.TB, rel string, k Kind) *Parsed {
	t.Helper()
	p, err := Parse(rel, k, read(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ref(t *testing.T, p *Part, role string) edgarrec.FactRef {
	t.Helper()
	for _, r := range p.Facts.Refs {
		if r.Role == role {
			return r
		}
	}
	t.Fatalf("no %s fact among %+v", role, p.Facts.Refs)
	return edgarrec.FactRef{}
}

// The published figures: Apple fiscal 2023 (seed data README) net sales
// 383,285 million USD, net income 96,995 million, total assets 352,583
// million; fiscal 2024 (the 10-K as filed in html/) 391,035, 93,736 and
// 364,980 million; shares outstanding from each cover page.
func TestAppleFundamentals(t *testing.T) {
	for _, c := range []struct {
		rel                string
		kind               Kind
		periodEnd          string
		revenue, revPer    string
		ni, assets         string
		shares, sharesAsOf string
	}{
		{"xbrl/aapl-20230930_htm.xml", KindXBRL, "2023-09-30", "383285000000", "2022-09-25..2023-09-30", "96995000000", "352583000000", "15552752000", "2023-10-20"},
		{"html/Apple.10-K.html", KindInlineXBRL, "2024-09-28", "391035000000", "2023-10-01..2024-09-28", "93736000000", "364980000000", "15115823000", "2024-10-18"},
	} {
		p := parseFile(t, c.rel, c.kind)
		if len(p.Parts) != 1 {
			t.Fatalf("%s: %d parts", c.rel, len(p.Parts))
		}
		part := &p.Parts[0]
		if part.Key.CIK != 320193 || part.Key.Form != "10-K" || p.Doc.Company != "Apple Inc." ||
			time.Unix(0, part.Key.PeriodEnd).UTC().Format("2006-01-02") != c.periodEnd {
			t.Fatalf("%s: key %+v company %q", c.rel, part.Key, p.Doc.Company)
		}
		if got := ref(t, part, "revenue"); got.Value != c.revenue || got.Period != c.revPer {
			t.Errorf("%s: revenue %+v", c.rel, got)
		}
		if got := ref(t, part, "net_income").Value; got != c.ni {
			t.Errorf("%s: net income %s", c.rel, got)
		}
		if got := ref(t, part, "assets"); got.Value != c.assets || got.Period != c.periodEnd {
			t.Errorf("%s: assets %+v", c.rel, got)
		}
		if got := ref(t, part, "shares_outstanding"); got.Value != c.shares || got.Period != c.sharesAsOf {
			t.Errorf("%s: shares outstanding %+v", c.rel, got)
		}
		if c.kind == KindInlineXBRL && (len(part.Sections) == 0 || len(part.SectionsMissing) != 0) {
			t.Errorf("%s: %d sections, missing %v", c.rel, len(part.Sections), part.SectionsMissing)
		}
	}
}

func TestNetflixQuarter(t *testing.T) {
	p := parseFile(t, "xbrl/nflx-20240331_htm.xml", KindXBRL)
	part := &p.Parts[0]
	if part.Key.Form != "10-Q" || part.Key.CIK != 1065280 {
		t.Fatalf("key %+v", part.Key)
	}
	if got := ref(t, part, "revenue"); got.Value != "9370440000" || got.Period != "2024-01-01..2024-03-31" {
		t.Errorf("revenue %+v", got)
	}
	if got := ref(t, part, "net_income"); got.Value != "2332209000" {
		t.Errorf("net income %+v", got)
	}
	old := parseFile(t, "xbrl/nflx-20100930.xml", KindXBRL)
	// The 10-Q of 2010 reports the quarter and nine months: the quarter wins.
	if got := ref(t, &old.Parts[0], "revenue"); got.Value != "553219000" || got.Period != "2010-07-01..2010-09-30" {
		t.Errorf("2010 revenue %+v", got)
	}
}

// Partial→Fill (seed §11): Apple's FY2024 10-K arrives in two parts, its
// facts first and its sections later (split from the real document): the
// first opens the window, the second fills it: same id, new hash, status
// filled, text features set, fundamentals unchanged.
func TestPartialThenFill(t *testing.T) {
	c := NewCompany(320193, Options{Tenant: "t"})
	html := parseFile(t, "html/Apple.10-K.html", KindInlineXBRL)
	facts, secs := html.Parts[0], html.Parts[0]
	facts.Sections, facts.SectionsMissing, facts.Text = nil, nil, nil
	secs.Facts = nil
	w1 := c.Add(&facts, "facts", 1)
	if w1 == nil || w1.W.Status != window.StatusOpen || w1.Fill || len(w1.NewDocs) != 1 {
		t.Fatalf("first emission %+v", w1)
	}
	if w1.W.Features[window.FSentimentNet.Slot()] != 0 || !contains(w1.Prov.Missing, "sections") {
		t.Fatalf("open window has text features or no missing sections: %v", w1.Prov.Missing)
	}
	w2 := c.Add(&secs, "sections", 2)
	if w2 == nil || !w2.Fill || w2.W.Status != window.StatusFilled || len(w2.NewDocs) != 1 || w2.NewDocs[0] != "sections" {
		t.Fatalf("fill %+v", w2)
	}
	if w2.W.ID != w1.W.ID || w2.W.Hash == w1.W.Hash {
		t.Fatal("fill must keep the id and change the hash")
	}
	if w2.W.Features[window.FTextWords.Slot()] < 5 || len(w2.Prov.Embedding) != 64 || len(w2.Prov.Sections) != 2 {
		t.Fatalf("filled window text: words %v, sections %+v", w2.W.Features[window.FTextWords.Slot()], w2.Prov.Sections)
	}
	if w2.W.Features[window.FNetMargin.Slot()] != w1.W.Features[window.FNetMargin.Slot()] {
		t.Fatal("fundamentals changed on fill")
	}
	if nm := w2.W.Features[window.FNetMargin.Slot()]; nm < 0.2397 || nm > 0.2398 { // 93736/391035
		t.Fatalf("net margin %v", nm)
	}
	if w3 := c.Add(&html.Parts[0], "again", 3); w3 != nil {
		t.Fatal("a third source of parts the filing has must add nothing")
	}
	// The extension decodes to the provenance, and the hash covers it.
	d := window.AppendWindowRecordExt(nil, &w2.W, "t", w2.Key, w2.Ext)
	dw, err := window.DecodeWindowRecord(d)
	if err != nil || dw.Hash != w2.W.Hash || dw.Window.Status != window.StatusFilled {
		t.Fatalf("decode: %v", err)
	}
	pr, err := edgarrec.DecodeProv(dw.Ext)
	if err != nil || pr.Form != "10-K" || len(pr.Docs) != 2 || len(pr.Facts) == 0 {
		t.Fatalf("prov %+v %v", pr, err)
	}
}

// sampleDoc is a file of the shared samples and its kind.
type sampleDoc struct {
	rel  string
	kind Kind
}

// addInOrder adds the first part of a, then of b, to a new company and
// returns the two windows.
func addInOrder(t *testing.T, cik uint64, a, b sampleDoc) (wa, wb *Window) {
	t.Helper()
	c := NewCompany(cik, Options{Tenant: "t"})
	wa = c.Add(&parseFile(t, a.rel, a.kind).Parts[0], a.rel, 1)
	wb = c.Add(&parseFile(t, b.rel, b.kind).Parts[0], b.rel, 2)
	return wa, wb
}

// Apple's FY2024 10-K against its FY2023 10-K: growth and deltas from the
// exact figures.
func TestAppleYearOverYear(t *testing.T) {
	w1, w2 := addInOrder(t, 320193, sampleDoc{"xbrl/aapl-20230930_htm.xml", KindXBRL}, sampleDoc{"html/Apple.10-K.html", KindInlineXBRL})
	if w1.W.Status != window.StatusOpen || w2.W.Status != window.StatusFilled {
		t.Fatalf("statuses %v %v", w1.W.Status, w2.W.Status)
	}
	near := func(name string, got, want float64) {
		if d := got - want; d > 1e-12 || d < -1e-12 {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
	f := w2.W.Features
	near("revenue growth", f[window.FRevenueGrowth.Slot()], 391035.0/383285.0-1)
	near("net income growth", f[window.FNetIncomeGrowth.Slot()], (93736.0-96995.0)/96995.0)
	near("assets growth", f[window.FAssetsGrowth.Slot()], 364980.0/352583.0-1)
	near("net margin delta", f[window.FNetMarginDelta.Slot()], 93736.0/391035.0-96995.0/383285.0)
	if w2.Prov.PrevAccession != "" || contains(w2.Prov.Missing, "previous") {
		t.Errorf("previous: %q %v", w2.Prov.PrevAccession, w2.Prov.Missing)
	}
}

// Deltas against the previous filing of the same form: Netflix 10-Q Q1
// 2024 against the 10-Q of 2010 (the only earlier one in the samples).
func TestDeltasAgainstPrevious(t *testing.T) {
	w1, w2 := addInOrder(t, 1065280, sampleDoc{"xbrl/nflx-20100930.xml", KindXBRL}, sampleDoc{"xbrl/nflx-20240331_htm.xml", KindXBRL})
	if contains(w1.Prov.Missing, "previous") == false || contains(w2.Prov.Missing, "previous") {
		t.Fatalf("missing: %v / %v", w1.Prov.Missing, w2.Prov.Missing)
	}
	g := w2.W.Features[window.FRevenueGrowth.Slot()]
	want := 9370440000.0/553219000.0 - 1
	if g < want-1e-9 || g > want+1e-9 {
		t.Fatalf("revenue growth %v, want %v", g, want)
	}
}

func TestSGMLAndCompanyFacts(t *testing.T) {
	p := parseFile(t, "sgml/0001213900-25-032135.txt", KindSGML)
	if p.Doc.CIK != 1173313 || p.Doc.Form != "8-K" || p.Doc.Accession != "0001213900-25-032135" || p.Doc.FilingTime == 0 {
		t.Fatalf("doc %+v", p.Doc.Name)
	}
	// Its XBRL instance is an XML document wrapped in <XML>…</XML>: read,
	// with no issue.
	if len(p.Doc.Issues) != 0 || len(p.Doc.Facts) == 0 || p.Parts[0].Facts == nil {
		t.Fatalf("8-K facts %d, issues %v", len(p.Doc.Facts), p.Doc.Issues)
	}
	old := parseFile(t, "sgml/0000950129-95-001652.txt", KindSGML)
	if old.Doc.CIK != 810271 || len(old.Parts) != 0 {
		t.Fatalf("1995 doc: cik %d, parts %d", old.Doc.CIK, len(old.Parts))
	}
	cf := parseFile(t, "json/CIK0001997711.companyfacts.json", KindCompanyFacts)
	if cf.Doc.CIK != 1997711 || len(cf.Parts) == 0 {
		t.Fatalf("companyfacts: cik %d, %d parts", cf.Doc.CIK, len(cf.Parts))
	}
	for _, k := range []struct {
		rel  string
		kind Kind
	}{{"json/CIK0001318605.submissions.json", KindSubmissions}, {"index/form.20200318.idx", KindIndex}, {"index/company.20221003.idx", KindIndex}} {
		if p := parseFile(t, k.rel, k.kind); !p.Meta {
			t.Errorf("%s not meta", k.rel)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// A 10-K without Item 1A: the missing section is reported in the
// document's issues and the window's provenance, never guessed, and the
// window is still built from what the filing has.
func TestMissingSectionReported(t *testing.T) {
	doc := "<SEC-DOCUMENT>0000000000-24-000001.txt : 20240301\n<SEC-HEADER>0000000000-24-000001.hdr.sgml : 20240301\n" +
		"ACCESSION NUMBER:\t\t0000000000-24-000001\nCONFORMED SUBMISSION TYPE:\t10-K\nPUBLIC DOCUMENT COUNT:\t\t1\n" +
		"CONFORMED PERIOD OF REPORT:\t20231231\nFILED AS OF DATE:\t\t20240301\n\nFILER:\n\n\tCOMPANY DATA:\t\n" +
		"\t\tCOMPANY CONFORMED NAME:\t\t\tSMALL CO\n\t\tCENTRAL INDEX KEY:\t\t\t0000000042\n</SEC-HEADER>\n" +
		"<DOCUMENT>\n<TYPE>10-K\n<SEQUENCE>1\n<FILENAME>small-10k.htm\n<TEXT>\n<html><body>" +
		"<p>PART I</p><p>Item 1. Business</p><p>We make things and sell them.</p>" +
		"<p>PART II</p><p>Item 7. Management's Discussion and Analysis</p><p>Revenue grew but losses remain uncertain.</p>" +
		"</body></html>\n</TEXT>\n</DOCUMENT>\n</SEC-DOCUMENT>\n"
	p, err := Parse("small.txt", KindSGML, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Parts) != 1 || p.Parts[0].Key.CIK != 42 || len(p.Parts[0].Sections) == 0 {
		t.Fatalf("parts %+v", p.Parts)
	}
	if m := p.Parts[0].SectionsMissing; len(m) != 1 || !strings.Contains(m[0], "1A") {
		t.Fatalf("missing %v", m)
	}
	var reported bool
	for _, is := range p.Doc.Issues {
		reported = reported || strings.Contains(is, "section missing: Risk Factors")
	}
	if !reported {
		t.Fatalf("issues %v", p.Doc.Issues)
	}
	w := NewCompany(42, Options{Tenant: "t"}).Add(&p.Parts[0], "small.txt", 1)
	if w == nil || !contains(w.Prov.Missing, "Risk Factors (Item 1A)") || len(w.Prov.Sections) != 1 || w.Prov.Sections[0].Item != "7" {
		t.Fatalf("window %+v", w.Prov)
	}
}
