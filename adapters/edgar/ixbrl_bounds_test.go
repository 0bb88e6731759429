package edgar

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

const ixHead = `<html xmlns="http://www.w3.org/1999/xhtml" xmlns:ix="http://www.xbrl.org/2013/inlineXBRL" xmlns:xbrli="http://www.xbrl.org/2003/instance" xmlns:x="urn:x"><body>
<ix:header><ix:resources><xbrli:context id="c"><xbrli:entity><xbrli:identifier scheme="s">1</xbrli:identifier></xbrli:entity><xbrli:period><xbrli:instant>2020-01-01</xbrli:instant></xbrli:period></xbrli:context>
<xbrli:unit id="u"><xbrli:measure>x:U</xbrli:measure></xbrli:unit></ix:resources></ix:header><p>`

// hostileIX builds a filing of about size bytes: a fact whose chain runs
// through every continuation, facts pointing into the middle of it, a
// cycle, and facts nested as deep as the size allows, then a good fact.
func hostileIX(size int) []byte {
	var b bytes.Buffer
	b.WriteString(ixHead)
	n := size / 2 / 80
	b.WriteString(`<ix:nonNumeric name="x:Chain" contextRef="c" continuedAt="k0">head</ix:nonNumeric>`)
	for i := range n {
		fmt.Fprintf(&b, `<ix:continuation id="k%d" continuedAt="k%d">part %d of the chain</ix:continuation>`, i, i+1, i)
		if i%1000 == 500 {
			fmt.Fprintf(&b, `<ix:nonNumeric name="x:Mid" contextRef="c" continuedAt="k%d">mid</ix:nonNumeric>`, i)
		}
	}
	fmt.Fprintf(&b, `<ix:continuation id="k%d">end</ix:continuation>`, n)
	b.WriteString(`<ix:nonNumeric name="x:Cycle" contextRef="c" continuedAt="y0">c</ix:nonNumeric>`)
	b.WriteString(`<ix:continuation id="y0" continuedAt="y1">a</ix:continuation><ix:continuation id="y1" continuedAt="y0">b</ix:continuation>`)
	depth := 0
	for b.Len() < size-1000 {
		b.WriteString(`<ix:nonNumeric name="x:Nest" contextRef="c">nested text `)
		depth++
	}
	b.WriteString(strings.Repeat(`</ix:nonNumeric>`, depth))
	b.WriteString(`<ix:nonFraction name="x:Good" contextRef="c" unitRef="u">42</ix:nonFraction></p></body></html>`)
	return b.Bytes()
}

// TestContinuationChainLinear: a 1 MB filing with a chain through ~6,000
// continuations (facts pointing into its middle, a cycle) and ~8,000
// nested facts parses with memory in proportion to its size (before: every
// fact walked and copied the whole chain, and nested text was copied into
// every open fact — 507 KB took 90 s and 1.76 GB). The chain's fact is
// whole, the second uses and the cycle are Issues, the nested facts past
// MaxNesting are Issues, and the good fact after them is kept.
func TestContinuationChainLinear(t *testing.T) {
	doc := hostileIX(1 << 20)
	const maxText = 8 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	in, err := ParseInlineXBRLWith(bytes.NewReader(doc), IXOptions{MaxText: maxText})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(maxText+40*len(doc)) {
		t.Errorf("parsing %d bytes allocated %d", len(doc), alloc)
	}
	issues := map[string]int{}
	for _, is := range in.Issues {
		switch {
		case strings.Contains(is.Reason, "already part of a chain"):
			issues[is.Concept]++
		case strings.Contains(is.Reason, "MaxText"):
			issues["budget"]++
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
	if len(in.Lookup("x:Nest")) == 0 {
		t.Error("no nested fact within the budget")
	}
	t.Logf("%d bytes: %d allocated, %d facts, %d issues", len(doc), after.TotalAlloc-before.TotalAlloc, len(in.Facts), len(in.Issues))
	// Past the text budget, facts are Issues naming MaxText.
	small, err := ParseInlineXBRLWith(bytes.NewReader(doc), IXOptions{MaxText: 1 << 10})
	if err != nil || len(small.Issues) == 0 || !strings.Contains(small.Issues[len(small.Issues)-1].Reason, "MaxText") {
		t.Errorf("small budget: err %v", err)
	}
	if _, err := ParseInlineXBRLWith(bytes.NewReader(doc), IXOptions{MaxText: -1}); err == nil {
		t.Error("negative MaxText accepted")
	}
}
