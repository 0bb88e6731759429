package edgar

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseCompanyFacts(t *testing.T) {
	cf, err := ParseCompanyFacts(bytes.NewReader(readData(t, "json/CIK0001997711.companyfacts.json")))
	if err != nil {
		t.Fatal(err)
	}
	if cf.CIK != "0001997711" || cf.EntityName != "Logistic Properties of the Americas" || len(cf.Concepts["ifrs-full"]) != 177 || len(cf.Concepts["dei"]) != 1 {
		t.Errorf("header %q %q %d", cf.CIK, cf.EntityName, len(cf.Concepts["ifrs-full"]))
	}
	total := 0
	for _, m := range cf.Concepts {
		for _, c := range m {
			for _, fs := range c.Units {
				total += len(fs)
			}
		}
	}
	if total != 768 {
		t.Errorf("total values %d, want 768", total)
	}
	rev := cf.Facts("ifrs-full:Revenue", "USD")
	if len(rev) != 6 {
		t.Fatalf("revenue facts %d", len(rev))
	}
	want := CompanyFact{Start: date(2021, 1, 1), End: date(2021, 12, 31), Accn: "0001493152-24-016772", FY: 2023, FP: "FY", Form: "20-F", Filed: date(2024, 4, 26), Frame: "CY2021"}
	got := rev[0]
	if got.Val.String() != "25596073" {
		t.Errorf("revenue[0] val %s", got.Val)
	}
	got.Val = want.Val
	if got != want {
		t.Errorf("revenue[0] %+v", got)
	}
	if pl := cf.Facts("ProfitLoss", "USD"); len(pl) != 6 || pl[5].Val.String() != "-19426051" || pl[5].Frame != "CY2024" {
		t.Errorf("profit/loss %+v", pl)
	}
	if a := cf.Facts("Assets", "USD"); len(a) != 4 || !a[0].Start.IsZero() || !a[0].End.Equal(date(2022, 12, 31)) || a[0].Val.String() != "497618869" {
		t.Errorf("assets %+v", a)
	}
	// A fractional value stays exact.
	fx := cf.Facts("ifrs-full:AverageForeignExchangeRate", "PEN")
	if len(fx) == 0 || fx[0].Val.String() != "3.885" || fx[0].Val.Exponent() != -3 {
		t.Errorf("PEN rate %+v", fx)
	}
	if len(cf.Facts("us-gaap:Revenue", "USD")) != 0 {
		t.Error("taxonomy filter ignored")
	}
	if sh := cf.Facts("dei:EntityCommonStockSharesOutstanding", "shares"); len(sh) < 2 || sh[0].Val.String() != "31709747" || sh[1].Frame != "" {
		t.Errorf("shares %+v", sh)
	}
}

func TestParseSubmissions(t *testing.T) {
	s, err := ParseSubmissions(bytes.NewReader(readData(t, "json/CIK0001318605.submissions.json")))
	if err != nil {
		t.Fatal(err)
	}
	if s.CIK != "0001318605" || s.Name != "Tesla, Inc." || s.SIC != "3711" || len(s.Tickers) != 1 || s.Tickers[0] != "TSLA" || s.FiscalYearEnd != "1231" {
		t.Errorf("header %+v", s)
	}
	if len(s.Recent) != 1001 || len(s.Files) != 1 || s.Files[0] != "CIK0001318605-submissions-001.json" {
		t.Fatalf("recent %d files %v", len(s.Recent), s.Files)
	}
	first := s.Recent[0]
	if first.AccessionNumber != "0001790565-22-000015" || first.Form != "4" || !first.FilingDate.Equal(date(2022, 11, 30)) ||
		!first.ReportDate.Equal(date(2022, 11, 28)) || first.PrimaryDocument != "xslF345X03/edgardoc.xml" ||
		!first.Accepted.Equal(time.Date(2022, 11, 30, 16, 42, 36, 0, time.UTC)) {
		t.Errorf("first %+v", first)
	}
	if last := s.Recent[1000]; last.AccessionNumber != "0001494730-13-000010" || !last.FilingDate.Equal(date(2013, 12, 11)) {
		t.Errorf("last %+v", last)
	}
	var tenK []Filing
	nQ := 0
	for _, f := range s.Recent {
		switch f.Form {
		case "10-K":
			tenK = append(tenK, f)
		case "10-Q":
			nQ++
		}
	}
	if len(tenK) != 9 || nQ != 27 {
		t.Errorf("10-K %d 10-Q %d", len(tenK), nQ)
	}
	k := tenK[0]
	if k.AccessionNumber != "0000950170-22-000796" || k.PrimaryDocument != "tsla-20211231.htm" || !k.ReportDate.Equal(date(2021, 12, 31)) ||
		!k.FilingDate.Equal(date(2022, 2, 7)) || !k.XBRL || !k.InlineXBRL || k.Size != 29316024 {
		t.Errorf("latest 10-K %+v", k)
	}
}

func TestJSONRejects(t *testing.T) {
	for _, in := range []string{"", "[]", `{"cik":"x"}`,
		`{"cik":1,"facts":{"a":{"b":{"units":{"USD":[{"val":1,"end":"2020-13-01"}]}}}}}`} {
		if _, err := ParseCompanyFacts(strings.NewReader(in)); err == nil {
			t.Errorf("ParseCompanyFacts(%q) succeeded", in)
		}
	}
	for _, in := range []string{"", `{"cik":"1","filings":{"recent":{"accessionNumber":["a"],"form":[]}}}`} {
		if _, err := ParseSubmissions(strings.NewReader(in)); err == nil {
			t.Errorf("ParseSubmissions(%q) succeeded", in)
		}
	}
}
