package edgar

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// TestRecoveryBounded: a 1 MB inline XBRL document that is nowhere near
// well-formed — thousands of mismatched and stray end tags, tags whose
// names are not XML names, unquoted attributes — is recovered
// in memory proportional to its size, keeps the fact after the damage,
// and says what it did.
func TestRecoveryBounded(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(ixHead)
	for b.Len() < 1<<20 {
		// Mismatched (</b> before </i>), stray (</p>, </ix:nonFraction>), a
		// bad name, an unquoted attribute; what opens, closes.
		b.WriteString(`<div class="x"><b><i>text</b></i></p><a:b:c>&nbsp;<ix:nonNumeric name="x:N" contextRef="c">n</ix:nonFraction></ix:nonNumeric>`)
		b.WriteString(`<span title=unquoted&amp;>cell</span></div>`)
	}
	b.WriteString(`<ix:nonFraction name="x:Good" contextRef="c" unitRef="u">42</ix:nonFraction></p></body></html>`)
	doc := b.Bytes()
	var in *Instance
	var err error
	n := allocs(func() { in, err = ParseInlineXBRLWith(bytes.NewReader(doc), IXOptions{MaxText: 8 << 20}) })
	if err != nil {
		t.Fatal(err)
	}
	if n > uint64(64*len(doc)+(8<<20)) {
		t.Errorf("recovering %d bytes allocated %d", len(doc), n)
	}
	if in.Recovery == nil || in.Recovery.StrayEnds == 0 || in.Recovery.Closed == 0 || in.Recovery.BadTags == 0 ||
		!strings.Contains(in.Recovery.String(), "not well-formed XML") {
		t.Fatalf("recovery %+v", in.Recovery)
	}
	if len(in.Lookup("x:Good")) != 1 {
		t.Fatal("the fact after the damage is lost")
	}
}

// TestRecoveryHostileBounded: the strict parser's hostile filing (a chain
// through ~6,000 continuations, facts into its middle, a cycle, ~8,000
// nested facts) with one stray end tag in front, so that it is read by
// the HTML5 path: the same bounds hold there — memory in proportion to
// the size, the chain whole and walked once, the second uses and the
// cycle Issues, nesting past MaxNesting an Issue, the fact after it kept.
func TestRecoveryHostileBounded(t *testing.T) {
	doc := hostileIX(1 << 20)
	at := bytes.Index(doc, []byte("<p>")) + len("<p>")
	doc = append(append(append([]byte(nil), doc[:at]...), "</ix:nonFraction>"...), doc[at:]...)
	const maxText = 8 << 20
	var in *Instance
	var err error
	n := allocs(func() { in, err = ParseInlineXBRLWith(bytes.NewReader(doc), IXOptions{MaxText: maxText}) })
	if err != nil {
		t.Fatal(err)
	}
	if in.Recovery == nil || in.Recovery.StrayEnds != 1 {
		t.Fatalf("recovery %+v", in.Recovery)
	}
	if n > uint64(maxText+64*len(doc)) {
		t.Errorf("recovering %d bytes allocated %d", len(doc), n)
	}
	issues := map[string]int{}
	for _, is := range in.Issues {
		switch {
		case strings.Contains(is.Reason, "already part of a chain"):
			issues[is.Concept]++
		case strings.Contains(is.Reason, "MaxNesting"):
			issues["deep"]++
		default:
			t.Errorf("unexpected issue %v", is)
		}
	}
	if issues["x:Mid"] == 0 || issues["x:Cycle"] != 1 || issues["deep"] == 0 {
		t.Errorf("issues %v", issues)
	}
	chain := in.Lookup("x:Chain")
	if len(chain) != 1 || !strings.HasPrefix(chain[0].Text, "head part 0 of the chain part 1 ") || !strings.HasSuffix(chain[0].Text, " end") {
		t.Fatalf("chain fact: %d facts", len(chain))
	}
	if g := in.Lookup("x:Good"); len(g) != 1 || g[0].Value.IntPart() != 42 {
		t.Fatalf("the fact after the hostile ones: %v", g)
	}
	// Past the text budget, facts are Issues naming MaxText, recovered or not.
	small, err := ParseInlineXBRLWith(bytes.NewReader(doc), IXOptions{MaxText: 1 << 10})
	if err != nil || small.Recovery == nil || len(small.Issues) == 0 ||
		!strings.Contains(small.Issues[len(small.Issues)-1].Reason, "MaxText") {
		t.Errorf("small budget: err %v", err)
	}
}

// TestRecoveryHugeText: one fact holding 16 MiB of text, in a document
// that is not well-formed, against a 1 MiB MaxText: as in the strict
// parse, the fact is an Issue naming MaxText and the budget is spent, so
// the fact after it is one too; the text is never kept, and memory stays
// in proportion to the document.
func TestRecoveryHugeText(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(ixHead)
	b.WriteString(`</b><ix:nonNumeric name="x:Huge" contextRef="c">`)
	chunk := strings.Repeat("word & more <i>text</i> ", 64)
	for b.Len() < 16<<20 {
		b.WriteString(chunk)
	}
	b.WriteString(`</ix:nonNumeric><ix:nonFraction name="x:After" contextRef="c" unitRef="u">42</ix:nonFraction></p></body></html>`)
	doc := b.Bytes()
	var in *Instance
	var err error
	n := allocs(func() { in, err = ParseInlineXBRLWith(bytes.NewReader(doc), IXOptions{MaxText: 1 << 20}) })
	if err != nil {
		t.Fatal(err)
	}
	if in.Recovery == nil || len(in.Facts) != 0 {
		t.Fatalf("recovery %+v, %d facts", in.Recovery, len(in.Facts))
	}
	over := map[string]bool{}
	for _, is := range in.Issues {
		if strings.Contains(is.Reason, "MaxText") && len(is.Reason) < 200 {
			over[is.Concept] = true
		}
	}
	if !over["x:Huge"] || !over["x:After"] {
		t.Errorf("issues %.500v", in.Issues)
	}
	good := bytes.Replace(doc, []byte("</b>"), nil, 1)
	strict := allocs(func() { _, err = ParseInlineXBRLWith(bytes.NewReader(good), IXOptions{MaxText: 1 << 20}) })
	t.Logf("%d bytes: recovering allocated %d, the strict parse of the undamaged document %d", len(doc), n, strict)
	if err != nil || n > 2*strict+uint64(4*len(doc)) {
		t.Errorf("recovering %d bytes allocated %d, the strict parse %d (%v)", len(doc), n, strict, err)
	}
}

// TestRecoveryEntities: a document that is not well-formed and declares
// billion-laughs entities (each ten of the one before) is not expanded:
// neither the XML nor the HTML5 reading knows entities a doctype declares,
// so the reference stays as written and the text stays the size of the
// input, as in the strict parse of the same document without the damage;
// the HTML entities (&nbsp; &amp; &#x2014;) are decoded.
func TestRecoveryEntities(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html [<!ENTITY lol0 "lol">`)
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString(`]>`)
	b.WriteString(ixHead)
	b.WriteString(`<ix:nonNumeric name="x:Laughs" contextRef="c">&lol9;&nbsp;&amp;&#x2014;</ix:nonNumeric>`)
	b.WriteString(`<ix:nonFraction name="x:Good" contextRef="c" unitRef="u">42</ix:nonFraction></p></body></html>`)
	good := b.Bytes()
	strict, err := ParseInlineXBRL(bytes.NewReader(good))
	if err != nil || strict.Recovery != nil || len(strict.Lookup("x:Laughs")) != 1 {
		t.Fatalf("strict parse: %v", err)
	}
	doc := bytes.Replace(good, []byte(`<ix:nonNumeric name="x:Laughs"`), []byte(`</b><ix:nonNumeric name="x:Laughs"`), 1)
	var in *Instance
	n := allocs(func() { in, err = ParseInlineXBRL(bytes.NewReader(doc)) })
	if err != nil {
		t.Fatal(err)
	}
	l := in.Lookup("x:Laughs")
	if in.Recovery == nil || len(l) != 1 || len(in.Lookup("x:Good")) != 1 {
		t.Fatalf("recovery %+v, facts %d", in.Recovery, len(in.Facts))
	}
	if want := strict.Lookup("x:Laughs")[0].Text; l[0].Text != want || !strings.HasPrefix(want, "&lol9;") || !strings.HasSuffix(want, "&\u2014") {
		t.Errorf("text %q, strict %q", l[0].Text, want)
	}
	if n > 1<<20 {
		t.Errorf("%d bytes allocated for a %d-byte document", n, len(doc))
	}
}
