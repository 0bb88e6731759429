package edgar

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/shopspring/decimal"
)

// onceInstance is a sample parsed once per test binary: the samples are
// 1-2 MB.
type onceInstance struct {
	once sync.Once
	in   *Instance
	err  error
}

func (o *onceInstance) get(t *testing.T, rel string, parse func(io.Reader) (*Instance, error)) *Instance {
	t.Helper()
	o.once.Do(func() { o.in, o.err = parse(bytes.NewReader(readData(t, rel))) })
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.in
}

var aaplInst, aaplIX onceInstance

func appleInstance(t *testing.T) *Instance {
	t.Helper()
	return aaplInst.get(t, "xbrl/aapl-20230930_htm.xml", ParseXBRL)
}

func appleInline(t *testing.T) *Instance {
	t.Helper()
	return aaplIX.get(t, "html/Apple.10-K.html", ParseInlineXBRL)
}

// pick returns the single fact of concept with the given period string and
// no dimensions, failing unless exactly one distinct value exists.
func pick(t *testing.T, in *Instance, concept, period string) Fact {
	t.Helper()
	var got []Fact
	for _, f := range in.Lookup(concept) {
		if f.Context.Period.String() == period && len(f.Context.Dims) == 0 {
			if len(got) > 0 && !got[0].Value.Equal(f.Value) {
				t.Fatalf("%s %s: conflicting values %s and %s", concept, period, got[0].Value, f.Value)
			}
			got = append(got, f)
		}
	}
	if len(got) == 0 {
		t.Fatalf("%s %s: not found", concept, period)
	}
	return got[0]
}

func checkFact(t *testing.T, f Fact, want, unit string, decimals int) {
	t.Helper()
	if !f.Value.Equal(decimal.RequireFromString(want)) || f.Unit.String() != unit || f.Decimals != (Decimals{Set: true, N: decimals}) {
		t.Errorf("%s: %s %s decimals %s, want %s %s %d", f.Concept, f.Value, f.Unit, f.Decimals, want, unit, decimals)
	}
}

func TestAppleFY2023Instance(t *testing.T) {
	in := appleInstance(t)
	if len(in.Issues) != 0 {
		t.Errorf("issues: %v", in.Issues[:min(5, len(in.Issues))])
	}
	if len(in.Facts) != 1164 {
		t.Errorf("facts: %d, want 1164 (contextRef count)", len(in.Facts))
	}
	const fy = "2022-09-25..2023-09-30"
	checkFact(t, pick(t, in, "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", fy), "383285000000", "iso4217:USD", -6)
	checkFact(t, pick(t, in, "us-gaap:NetIncomeLoss", fy), "96995000000", "iso4217:USD", -6)
	a := pick(t, in, "us-gaap:Assets", "2023-09-30")
	checkFact(t, a, "352583000000", "iso4217:USD", -6)
	if a.Context.Identifier != "0000320193" || a.Context.Scheme != "http://www.sec.gov/CIK" || !a.Context.Period.Instant || a.Concept.Space != "http://fasb.org/us-gaap/2023" {
		t.Errorf("assets context %+v concept %+v", a.Context, a.Concept)
	}
	eps := pick(t, in, "us-gaap:EarningsPerShareDiluted", fy)
	checkFact(t, eps, "6.13", "iso4217:USD/shares", 2)
	// A dimensional fact: iPhone net sales.
	var iphone []Fact
	for _, f := range in.Lookup("RevenueFromContractWithCustomerExcludingAssessedTax") {
		if f.Context.Period.String() == fy && len(f.Context.Dims) == 1 && f.Context.Dims[0].Member.String() == "us-gaap:ProductMember" {
			iphone = append(iphone, f)
		}
	}
	if len(iphone) != 1 || iphone[0].Value.String() != "298085000000" || iphone[0].Context.Dims[0].Dimension.String() != "srt:ProductOrServiceAxis" {
		t.Errorf("product member net sales: %+v", iphone)
	}
	// Typed members are kept.
	typed := 0
	for _, c := range in.Contexts {
		for _, d := range c.Dims {
			if d.Typed != "" {
				typed++
			}
		}
	}
	if typed == 0 {
		t.Error("no typed members")
	}
	dei := in.Lookup("dei:DocumentFiscalPeriodFocus")
	if len(dei) != 1 || dei[0].Text != "FY" || dei[0].Numeric || dei[0].Lang != "en-US" {
		t.Errorf("dei: %+v", dei)
	}
}

func TestAppleInline10K(t *testing.T) {
	in := appleInline(t)
	if len(in.Issues) != 0 {
		t.Errorf("issues (%d): %v", len(in.Issues), in.Issues[:min(5, len(in.Issues))])
	}
	// 963 ix:nonFraction + 164 ix:nonNumeric in the file.
	if len(in.Facts) != 963+164 {
		t.Errorf("facts: %d", len(in.Facts))
	}
	// This 10-K is fiscal 2024; fiscal 2023 figures are its comparatives.
	const fy23 = "2022-09-25..2023-09-30"
	rev := pick(t, in, "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", fy23)
	checkFact(t, rev, "383285000000", "iso4217:USD", -6)
	if rev.Scale != 6 || rev.Format != "ixt:num-dot-decimal" || rev.Concept.Space != "http://fasb.org/us-gaap/2024" {
		t.Errorf("revenue attrs: scale %d format %q concept %+v", rev.Scale, rev.Format, rev.Concept)
	}
	checkFact(t, pick(t, in, "us-gaap:NetIncomeLoss", fy23), "96995000000", "iso4217:USD", -6)
	checkFact(t, pick(t, in, "us-gaap:Assets", "2023-09-30"), "352583000000", "iso4217:USD", -6)
	// Fiscal 2024 (published: net sales 391,035, net income 93,736, assets 364,980 million).
	const fy24 = "2023-10-01..2024-09-28"
	checkFact(t, pick(t, in, "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax", fy24), "391035000000", "iso4217:USD", -6)
	checkFact(t, pick(t, in, "us-gaap:NetIncomeLoss", fy24), "93736000000", "iso4217:USD", -6)
	checkFact(t, pick(t, in, "us-gaap:Assets", "2024-09-28"), "364980000000", "iso4217:USD", -6)
	checkFact(t, pick(t, in, "us-gaap:EarningsPerShareDiluted", fy24), "6.08", "iso4217:USD/xbrli:shares", 2)
	// sign="-" facts are negative, and fixed-zero facts are zero.
	var neg, zero int
	for _, f := range in.Facts {
		if f.Sign {
			if f.Value.Sign() >= 0 && !f.Value.IsZero() {
				t.Errorf("signed fact %s = %s", f.ID, f.Value)
			}
			neg++
		}
		if f.Format == "ixt:fixed-zero" {
			if !f.Value.IsZero() {
				t.Errorf("fixed-zero fact %s = %s", f.ID, f.Value)
			}
			zero++
		}
	}
	if neg != 61 || zero != 49 {
		t.Errorf("sign=- facts %d (want 61), fixed-zero %d (want 49)", neg, zero)
	}
	if f := in.Lookup("dei:EntityCentralIndexKey"); len(f) != 1 || f[0].Text != "0000320193" {
		t.Errorf("CIK fact %+v", f)
	}
	if f := in.Lookup("dei:DocumentPeriodEndDate"); len(f) != 1 || f[0].Text != "September 28, 2024" {
		t.Errorf("period end fact %+v", f)
	}
}

func TestNetflixInstances(t *testing.T) {
	f := func(file string, wantFacts int, checks [][3]string) {
		t.Helper()
		in, err := ParseXBRL(bytes.NewReader(readData(t, file)))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(in.Facts)+len(in.Issues) != wantFacts || len(in.Facts) == 0 {
			t.Errorf("%s: %d facts + %d issues, want %d", file, len(in.Facts), len(in.Issues), wantFacts)
		}
		for _, c := range checks {
			if got := pick(t, in, c[0], c[1]); !got.Value.Equal(decimal.RequireFromString(c[2])) || got.Unit.String() != "iso4217:USD" {
				t.Errorf("%s %s %s = %s %s, want %s", file, c[0], c[1], got.Value, got.Unit, c[2])
			}
		}
	}
	// Values read from the files; they match Netflix's published Q1 2024
	// (revenue 9,370,440 thousand, net income 2,332,209 thousand) and Q3
	// 2010 (revenue 553,219 thousand, net income 37,967 thousand) reports.
	f("xbrl/nflx-20240331_htm.xml", 747, [][3]string{
		{"us-gaap:Revenues", "2024-01-01..2024-03-31", "9370440000"},
		{"us-gaap:NetIncomeLoss", "2024-01-01..2024-03-31", "2332209000"},
		{"us-gaap:NetIncomeLoss", "2023-01-01..2023-03-31", "1305120000"},
	})
	f("xbrl/nflx-20100930.xml", 303, [][3]string{
		{"us-gaap:Revenues", "2010-07-01..2010-09-30", "553219000"},
		{"us-gaap:Revenues", "2010-01-01..2010-09-30", "1566703000"},
		{"us-gaap:NetIncomeLoss", "2010-07-01..2010-09-30", "37967000"},
		{"us-gaap:CashAndCashEquivalentsAtCarryingValue", "2010-09-30", "113108000"},
	})
}

func TestXBRLRejects(t *testing.T) {
	for _, in := range []string{"", "<html/>", "<xbrl xmlns='http://www.xbrl.org/2003/instance'>", "not xml"} {
		if _, err := ParseXBRL(bytes.NewReader([]byte(in))); err == nil {
			t.Errorf("ParseXBRL(%q) succeeded", in)
		}
	}
	// Bad facts become Issues, never values.
	doc := `<xbrl xmlns="http://www.xbrl.org/2003/instance" xmlns:x="urn:x">
<context id="c"><entity><identifier scheme="s">1</identifier></entity><period><instant>2020-01-01</instant></period></context>
<unit id="u"><measure>x:U</measure></unit>
<x:A contextRef="c" unitRef="u" decimals="0">1,000</x:A>
<x:B contextRef="c" unitRef="u" decimals="INF">1e99999</x:B>
<x:C contextRef="nope" unitRef="u" decimals="0">1</x:C>
<x:D contextRef="c" unitRef="u" decimals="two">1</x:D>
<x:E contextRef="c" unitRef="u" decimals="-3">-12.50</x:E>
</xbrl>`
	in, err := ParseXBRL(bytes.NewReader([]byte(doc)))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Facts) != 1 || in.Facts[0].Value.String() != "-12.5" || in.Facts[0].Decimals.N != -3 || len(in.Issues) != 4 {
		t.Errorf("facts %+v issues %v", in.Facts, in.Issues)
	}
}

func TestInlineSmall(t *testing.T) {
	in, err := ParseInlineXBRL(bytes.NewReader([]byte(smallIX)))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Facts) != 2 || len(in.Issues) != 0 {
		t.Fatalf("facts %+v issues %v", in.Facts, in.Issues)
	}
	a, b := in.Facts[0], in.Facts[1]
	if a.Value.String() != "-1234500000" || a.Decimals.N != -6 || a.Scale != 6 || !a.Sign || a.Unit.String() != "x:U" || a.Concept.Space != "urn:x" || !a.Context.Period.Instant {
		t.Errorf("nonFraction %+v value %s", a, a.Value)
	}
	if b.Text != "ab more" || b.Numeric {
		t.Errorf("nonNumeric %q", b.Text)
	}
	// Formats, scale and bad input.
	doc := func(body string) string {
		return `<html xmlns:ix="http://www.xbrl.org/2013/inlineXBRL" xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:x="urn:x"><body>
<xbrli:context id="c"><xbrli:entity><xbrli:identifier scheme="s">1</xbrli:identifier></xbrli:entity><xbrli:period><xbrli:instant>2020-01-01</xbrli:instant></xbrli:period></xbrli:context>
<xbrli:unit id="u"><xbrli:measure>x:U</xbrli:measure></xbrli:unit>` + body + `</body></html>`
	}
	f := func(body, want string) {
		t.Helper()
		in, err := ParseInlineXBRL(bytes.NewReader([]byte(doc(body))))
		if err != nil {
			t.Fatal(err)
		}
		got := "issue"
		if len(in.Facts) == 1 {
			got = in.Facts[0].Value.String()
		}
		if got != want {
			t.Errorf("%s: got %s (issues %v), want %s", body, got, in.Issues, want)
		}
	}
	f(`<ix:nonFraction name="x:A" contextRef="c" unitRef="u" format="ixt:num-comma-decimal" scale="-2">1.234,5</ix:nonFraction>`, "12.345")
	f(`<ix:nonFraction name="x:A" contextRef="c" unitRef="u" format="ixt:fixed-zero">&#8212;</ix:nonFraction>`, "0")
	f(`<ix:nonFraction name="x:A" contextRef="c" unitRef="u" format="ixt-sec:numwordsen">twenty-one</ix:nonFraction>`, "21")
	f(`<ix:nonFraction name="x:A" contextRef="c" unitRef="u" format="ixt-sec:numwordsen">one thousand and two</ix:nonFraction>`, "issue")
	f(`<ix:nonFraction name="x:A" contextRef="c" unitRef="u" format="ixt:num-dot-decimal">&#8212;</ix:nonFraction>`, "issue")
	f(`<ix:nonFraction name="x:A" contextRef="c" unitRef="u" scale="99999">1</ix:nonFraction>`, "issue")
	f(`<ix:nonFraction name="x:A" contextRef="c" unitRef="u">-1</ix:nonFraction>`, "issue")
	f(`<ix:nonFraction name="x:A" contextRef="zz" unitRef="u">1</ix:nonFraction>`, "issue")
	f(`<ix:nonFraction name="x:A" contextRef="c" unitRef="u" format="ixt:date-monthname-day-en">1</ix:nonFraction>`, "issue")
	if _, err := ParseInlineXBRL(bytes.NewReader([]byte("<html><body>no facts</body></html>"))); err == nil {
		t.Error("document without inline XBRL accepted")
	}
}

func TestAppleInline10Q(t *testing.T) {
	in, err := ParseInlineXBRL(bytes.NewReader(readData(t, "html/Apple.10-Q.html")))
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Facts) != 683+98 || len(in.Issues) != 0 {
		t.Errorf("facts %d issues %v", len(in.Facts), in.Issues)
	}
	if f := in.Lookup("dei:DocumentFiscalPeriodFocus"); len(f) != 1 || f[0].Text != "Q3" {
		t.Errorf("fiscal period %+v", f)
	}
}
