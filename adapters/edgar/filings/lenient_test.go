package filings

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corrupt swaps the end tag of one ix:nonNumeric in the middle of the
// document for with (the wrong one: one mismatched tag, as a filing
// agent's tool wrote it in the filing the audit found; or nothing: one
// end tag left out).
func corrupt(t *testing.T, doc []byte, with string) []byte {
	t.Helper()
	end := []byte("</ix:nonNumeric>")
	at := bytes.Index(doc[len(doc)/2:], end)
	if at < 0 {
		t.Fatal("no ix:nonNumeric end tag in the second half")
	}
	at += len(doc) / 2
	out := append([]byte(nil), doc[:at]...)
	out = append(out, with...)
	return append(out, doc[at+len(end):]...)
}

// TestMismatchedTagRecovered: Apple's 10-K with one mismatched tag is no
// longer rejected whole: it is read again as HTML5, its sections, its
// facts (all but the damaged one's) and its fundamentals come out, and
// the recovery is listed in the document's issues.
func TestMismatchedTagRecovered(t *testing.T) {
	checkRecovered(t, "</ix:nonFraction>")
}

// TestMissingEndTagRecovered: the same with the end tag left out. The
// XML reading (not strict, HTML's auto-close) already takes this: the fact
// is closed where the element around it closes, no recovery is needed,
// and the sections, facts and fundamentals are as in the good parse.
func TestMissingEndTagRecovered(t *testing.T) {
	checkRecovered(t, "")
}

func checkRecovered(t *testing.T, with string) {
	t.Helper()
	good, err := os.ReadFile(filepath.Join(data, "html/Apple.10-K.html"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse("Apple.10-K.html", KindInlineXBRL, good)
	if err != nil {
		t.Fatal(err)
	}
	bad := corrupt(t, good, with)
	got, err := Parse("Apple.10-K.bad.html", KindInlineXBRL, bad)
	if err != nil {
		t.Fatalf("the corrupted filing is rejected: %v", err)
	}
	if wantRec := with != ""; want.Recovered || got.Recovered != wantRec {
		t.Fatalf("recovered: good %v, corrupted %v", want.Recovered, got.Recovered)
	}
	var issue string
	for _, s := range got.Doc.Issues {
		if strings.Contains(s, "recovered with the HTML5 tokenizer") {
			issue = s
		}
	}
	if with != "" && (issue == "" || !strings.Contains(issue, "not well-formed XML at line")) {
		t.Fatalf("no recovery in the issues: %q", got.Doc.Issues)
	}
	if len(got.Parts) != 1 || len(want.Parts) != 1 {
		t.Fatalf("parts: %d, want %d", len(got.Parts), len(want.Parts))
	}
	gp, wp := &got.Parts[0], &want.Parts[0]
	if gp.Key != wp.Key || len(gp.Sections) != len(wp.Sections) || len(gp.SectionsMissing) != 0 {
		t.Fatalf("key %+v sections %d (missing %v), want %+v and %d", gp.Key, len(gp.Sections), gp.SectionsMissing, wp.Key, len(wp.Sections))
	}
	// Every fact of the good parse but the damaged element's.
	have := map[string]bool{}
	for _, f := range got.Doc.Facts {
		have[f.Concept+"|"+f.Start+"|"+f.End+"|"+f.Unit+"|"+f.Value] = true
	}
	lost := 0
	for _, f := range want.Doc.Facts {
		if !have[f.Concept+"|"+f.Start+"|"+f.End+"|"+f.Unit+"|"+f.Value] {
			lost++
		}
	}
	if lost > 1 || len(want.Doc.Facts) < 1000 {
		t.Fatalf("%d of %d facts lost in the recovery", lost, len(want.Doc.Facts))
	}
	for _, name := range []string{"revenue", "net_income", "assets"} {
		if g, w := ref(t, gp, name), ref(t, wp, name); g != w {
			t.Errorf("%s: %+v, want %+v", name, g, w)
		}
	}
	if gp.Text == nil {
		t.Fatal("no text features: the window would have no sections")
	}
}

// TestUnusableRejected: a document that is not well-formed and has no
// inline XBRL under the damage is still a reject, with an error naming
// both readings; one whose ix:header has no CIK is a reject too.
func TestUnusableRejected(t *testing.T) {
	_, err := Parse("junk.html", KindInlineXBRL, []byte(`<html><body><p>Item 1A. Risk Factors</b></p><div>text</span></div></body></html>`))
	if err == nil || !strings.Contains(err.Error(), "not well-formed XML at line 1") || !strings.Contains(err.Error(), "read again with the HTML5 tokenizer") {
		t.Fatalf("err %v", err)
	}
	noCIK := `<html xmlns:ix="http://www.xbrl.org/2013/inlineXBRL" xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:x="urn:x"><body>` +
		`<ix:header><ix:resources><xbrli:context id="c"><xbrli:entity><xbrli:identifier scheme="s">none</xbrli:identifier></xbrli:entity>` +
		`<xbrli:period><xbrli:instant>2020-01-01</xbrli:instant></xbrli:period></xbrli:context></ix:resources></ix:header>` +
		`<p></b><ix:nonNumeric name="x:N" contextRef="c">n</ix:nonNumeric></p></body></html>`
	if _, err := Parse("nocik.html", KindInlineXBRL, []byte(noCIK)); err == nil || !strings.Contains(err.Error(), "no CIK") {
		t.Fatalf("no CIK: err %v", err)
	}
}
