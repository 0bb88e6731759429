package edgar

import (
	"errors"
	"strings"
	"testing"
)

func TestSectionsApple10K(t *testing.T) {
	secs, err := Sections(readData(t, "html/Apple.10-K.html"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range secs {
		got = append(got, s.Part+"/"+s.Item)
	}
	want := "I/1 I/1A I/1B I/1C I/2 I/3 I/4 II/5 II/6 II/7 II/7A II/8 II/9 II/9A II/9B II/9C III/10 III/11 III/12 III/13 III/14 IV/15 IV/16"
	if strings.Join(got, " ") != want {
		t.Errorf("items:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if err := Require(secs, "1A", "7", "II/7A", "8"); err != nil {
		t.Error(err)
	}
	risk, err := RiskFactors(secs)
	if err != nil {
		t.Fatal(err)
	}
	// The heading in the table of contents (offset ~192k) must not be used.
	if risk.Item != "1A" || risk.Title != "Risk Factors" || risk.Offset < 270000 ||
		len(risk.Text) < 40000 || len(risk.Text) > 120000 ||
		!strings.HasPrefix(risk.Text, "The Company’s business, reputation, results of operations, financial condition") {
		t.Errorf("risk factors: %q at %d, %d chars, starts %.80q", risk.Title, risk.Offset, len(risk.Text), risk.Text)
	}
	mda, err := MDA(secs)
	if err != nil {
		t.Fatal(err)
	}
	if mda.Item != "7" || !strings.HasPrefix(mda.Title, "Management’s Discussion and Analysis") ||
		len(mda.Text) < 10000 || len(mda.Text) > 100000 || !strings.Contains(mda.Text, "Product, Service and Software Announcements") {
		t.Errorf("MD&A: %q, %d chars", mda.Title, len(mda.Text))
	}
	for _, s := range secs {
		if strings.ContainsAny(s.Text, "<>") && strings.Contains(s.Text, "<span") {
			t.Errorf("item %s has markup", s.Item)
		}
		if strings.Contains(s.Text, "&#") || strings.Contains(s.Text, "&amp;") || strings.Contains(s.Text, "  ") || strings.Contains(s.Text, "\u00a0") {
			t.Errorf("item %s has entities or uncollapsed space", s.Item)
		}
		if strings.Contains(s.Text, "dei:") || strings.Contains(s.Text, "0000320193") {
			t.Errorf("item %s contains hidden ix:header content", s.Item)
		}
	}
	if s, _ := Find(secs, "", "1B"); s.Text != "None." {
		t.Errorf("1B text %q", s.Text)
	}
	// Neither the PART II heading nor the page footer leaks into item 4.
	if s, _ := Find(secs, "", "4"); s.Text != "Not applicable." {
		t.Errorf("item 4 text %q", s.Text)
	}
	for _, s := range secs {
		if strings.Contains(s.Text, "| 2024 Form 10-K |") {
			t.Errorf("item %s contains a page footer", s.Item)
		}
	}
}

func TestSectionsApple10Q(t *testing.T) {
	secs, err := Sections(readData(t, "html/Apple.10-Q.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 11 {
		t.Errorf("%d sections", len(secs))
	}
	mda, err := MDA(secs)
	if err != nil || mda.Part != "I" || mda.Item != "2" || len(mda.Text) < 5000 || len(mda.Text) > 60000 {
		t.Errorf("MD&A: %v %s/%s %d chars", err, mda.Part, mda.Item, len(mda.Text))
	}
	risk, err := RiskFactors(secs)
	if err != nil || risk.Part != "II" || risk.Title != "Risk Factors" || len(risk.Text) < 300 || len(risk.Text) > 5000 {
		t.Errorf("risk: %v %s %d chars", err, risk.Part, len(risk.Text))
	}
	if _, ok := Find(secs, "", "7"); ok {
		t.Error("10-Q has an item 7")
	}
	var me *MissingError
	if err := Require(secs, "II/1A", "7", "I/4", "III/10"); !errors.As(err, &me) || strings.Join(me.Missing, ",") != "7,III/10" || !errors.Is(err, ErrSectionMissing) {
		t.Errorf("Require: %v", err)
	}
}

func TestSectionsAbsent(t *testing.T) {
	// Only a table of contents: nothing outside tables is a heading.
	toc := []byte(`<html><body><table><tr><td>Item 1A.</td><td>Risk Factors</td></tr><tr><td>Item 7.</td><td>MD&amp;A</td></tr></table>
<p>Item 7 of this report is incorporated by reference.</p></body></html>`)
	if _, err := Sections(toc); !errors.Is(err, ErrNoSections) {
		t.Errorf("TOC only: %v", err)
	}
	doc := []byte(`<div>PART I</div><div>Item 1. Business</div><p>We make &amp; sell things.</p>
<div>Item 2.</div><div>Properties</div><p>A&#160;&#160;building.</p>`)
	secs, err := Sections(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 2 || secs[0].Text != "We make & sell things." || secs[1].Title != "Properties" || secs[1].Text != "A building." {
		t.Errorf("%+v", secs)
	}
	if _, err := RiskFactors(secs); !errors.Is(err, ErrSectionMissing) {
		t.Errorf("risk factors: %v", err)
	}
	if _, err := MDA(secs); !errors.Is(err, ErrSectionMissing) {
		t.Errorf("MD&A: %v", err)
	}
}
