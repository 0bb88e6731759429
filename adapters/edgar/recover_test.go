package edgar

import (
	"bytes"
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
