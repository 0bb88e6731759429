package edgar

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ParseInlineXBRL reads an inline XBRL (iXBRL 1.0/1.1) XHTML document, such
// as a 10-K or 10-Q primary document as filed since 2019, and returns its
// facts with contexts and units from ix:resources resolved.
//
// ix:nonFraction values are transformed by their format (num-dot-decimal,
// num-comma-decimal, fixed-zero, zerodash, numwordsen; others are reported
// as Issues), then multiplied by 10^scale and negated if sign="-".
// ix:nonNumeric values are the element's text with whitespace collapsed,
// ix:exclude content removed and ix:continuation chains appended;
// fixed-true/fixed-false become "true"/"false", other formats (dates,
// durations) are left as displayed and Format says which applies.
//
// The work is linear in the input: text is collected once, each fact's
// text is a range of it, a continuation may belong to one chain only (a
// second use or a cycle is an Issue), and all the text the facts hold
// together is capped by IXOptions.MaxText (a fact past it is an Issue).
func ParseInlineXBRL(r io.Reader) (*Instance, error) { return ParseInlineXBRLWith(r, IXOptions{}) }

// DefaultMaxIXText is IXOptions.MaxText's default: 64 MiB.
const DefaultMaxIXText = 64 << 20

// IXOptions bound what ParseInlineXBRLWith builds from a document.
type IXOptions struct {
	// MaxText is the most text, in bytes, the facts and continuations of
	// one document may hold together (nested facts count their inner text
	// again); a fact past it is refused with an Issue. 0 means
	// DefaultMaxIXText (64 MiB).
	MaxText int64
	// MaxNesting is how many facts and continuations may be open inside
	// one another; a deeper one is refused with an Issue (its text still
	// counts for the facts around it). 0 means DefaultMaxIXNesting (32).
	MaxNesting int
}

// DefaultMaxIXNesting is IXOptions.MaxNesting's default.
const DefaultMaxIXNesting = 32

// Validate names the bad field.
func (o IXOptions) Validate() error {
	if o.MaxText < 0 {
		return fmt.Errorf("edgar: MaxText: %d is negative", o.MaxText)
	}
	if o.MaxNesting < 0 {
		return fmt.Errorf("edgar: MaxNesting: %d is negative", o.MaxNesting)
	}
	return nil
}

// ParseInlineXBRLWith is ParseInlineXBRL within the bounds of o.
func ParseInlineXBRLWith(r io.Reader, o IXOptions) (*Instance, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.MaxText == 0 {
		o.MaxText = DefaultMaxIXText
	}
	if o.MaxNesting == 0 {
		o.MaxNesting = DefaultMaxIXNesting
	}
	doc, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("parse inline XBRL: %w", err)
	}
	in, err := parseIX(doc, o)
	if err != nil && !errors.Is(err, ErrNotXBRL) {
		// Not well-formed XML: read it as HTML5 (ixbrl_recover.go).
		return recoverIX(doc, o, err)
	}
	if err != nil {
		return nil, fmt.Errorf("parse inline XBRL: %w", err)
	}
	return in, nil
}

// parseIX is one XML reading of doc; o has its defaults.
func parseIX(doc []byte, o IXOptions) (*Instance, error) {
	d := newDecoder(bytes.NewReader(doc))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	p := &ixParser{
		d:    d,
		in:   &Instance{Contexts: map[string]*Context{}, Units: map[string]*Unit{}},
		cont: map[string]ixCont{},
		left: o.MaxText,
		max:  o.MaxText,
		nest: o.MaxNesting,
	}
	if err := p.run(); err != nil {
		return nil, err
	}
	if !p.sawIX {
		return nil, fmt.Errorf("%w: no inline XBRL elements", ErrNotXBRL)
	}
	p.finish()
	return p.in, nil
}

type ixFrame struct {
	kind  int // what closing this element does
	fact  int // index into pending for ixFact frames
	start int // for facts and continuations: where their text starts in ixParser.text
}

const (
	ixOther = iota
	ixFact
	ixExclude
	ixContinuation
)

type ixPending struct {
	fact       Fact
	raw        string // the fact's text as collected
	overBudget bool   // raw was not kept: over IXOptions.MaxText
	continued  string // continuedAt
	rawScale   string
	rawSign    string
	rawDecimal string
	hasDecimal bool
}

type ixCont struct {
	text string
	next string
	used bool // already part of a chain
	over bool // its text was not kept: over IXOptions.MaxText or MaxNesting
}

type ixParser struct {
	d       *xml.Decoder
	ns      nsStack
	in      *Instance
	frames  []ixFrame
	text    []byte // the text of open facts and continuations, in document order, collected once
	open    int    // open facts and continuations: text is kept while one is open
	left    int64  // text budget left (IXOptions.MaxText)
	max     int64  // IXOptions.MaxText
	nest    int    // IXOptions.MaxNesting
	exclude int
	pending []ixPending
	cont    map[string]ixCont
	contID  []string // ids of open continuations, parallel to their frames
	sawIX   bool
	langs   []string
}

func isIX(space string) bool { return space == nsIX11 || space == nsIX10 }

func (p *ixParser) run() error {
	for {
		tok, err := p.d.Token()
		if err == io.EOF {
			if len(p.frames) != 0 {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := p.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			p.end()
		case xml.CharData:
			// Every open collector receives the same text between its start
			// and its end, so one buffer serves them all: a collector's text
			// is a range of it.
			if p.exclude == 0 && p.open > 0 {
				p.text = append(p.text, t...)
			}
		}
	}
}

func (p *ixParser) start(t xml.StartElement) error {
	p.ns.push(t)
	lang, ok := attr(t, "http://www.w3.org/XML/1998/namespace", "lang")
	if !ok && len(p.langs) > 0 {
		lang = p.langs[len(p.langs)-1]
	}
	p.langs = append(p.langs, lang)
	fr := ixFrame{kind: ixOther}
	switch {
	case t.Name.Space == nsXBRLI && (t.Name.Local == "context" || t.Name.Local == "unit"):
		n, err := readTree(p.d, &p.ns, t)
		if err != nil {
			return err
		}
		if err := p.in.addResource(n, &p.ns); err != nil {
			p.in.Issues = append(p.in.Issues, Issue{Concept: t.Name.Local, Reason: err.Error()})
		}
		p.pop()
		return nil
	case !isIX(t.Name.Space):
	case (t.Name.Local == "nonFraction" || t.Name.Local == "nonNumeric" || t.Name.Local == "continuation") && p.open >= p.nest:
		p.sawIX = true
		p.tooDeep(t)
	case t.Name.Local == "nonFraction" || t.Name.Local == "nonNumeric":
		p.sawIX = true
		fr.kind, fr.fact = ixFact, len(p.pending)
		p.pending = append(p.pending, p.newFact(t, lang))
	case t.Name.Local == "exclude":
		fr.kind = ixExclude
		p.exclude++
	case t.Name.Local == "continuation":
		fr.kind = ixContinuation
		id, _ := attr(t, "", "id")
		next, _ := attr(t, "", "continuedAt")
		p.contID = append(p.contID, id)
		p.cont[id] = ixCont{next: next}
	case t.Name.Local == "references" || t.Name.Local == "relationship":
		p.sawIX = true
		if err := p.d.Skip(); err != nil {
			return err
		}
		p.pop()
		return nil
	case t.Name.Local == "header":
		p.sawIX = true
	}
	if fr.kind == ixFact || fr.kind == ixContinuation {
		fr.start = len(p.text)
		p.open++
	}
	p.frames = append(p.frames, fr)
	return nil
}

// tooDeep refuses a fact or continuation nested deeper than MaxNesting:
// a fact becomes an Issue, a continuation one its referrer reports.
func (p *ixParser) tooDeep(t xml.StartElement) {
	id, _ := attr(t, "", "id")
	if t.Name.Local == "continuation" {
		p.cont[id] = ixCont{over: true}
		return
	}
	name, _ := attr(t, "", "name")
	p.in.Issues = append(p.in.Issues, Issue{name, id, fmt.Sprintf("nested deeper than %d facts and continuations (MaxNesting)", p.nest)})
}

// pop undoes the bookkeeping of start for an element consumed whole.
func (p *ixParser) pop() {
	p.ns.pop()
	p.langs = p.langs[:len(p.langs)-1]
}

func (p *ixParser) end() {
	if len(p.frames) == 0 {
		return
	}
	fr := p.frames[len(p.frames)-1]
	p.frames = p.frames[:len(p.frames)-1]
	switch fr.kind {
	case ixExclude:
		p.exclude--
	case ixFact:
		p.open--
		pd := &p.pending[fr.fact]
		if raw := p.text[fr.start:]; p.take(len(raw)) {
			pd.raw = string(raw)
		} else {
			pd.overBudget = true
		}
	case ixContinuation:
		p.open--
		id := p.contID[len(p.contID)-1]
		p.contID = p.contID[:len(p.contID)-1]
		c := p.cont[id]
		if raw := p.text[fr.start:]; p.take(len(raw)) {
			c.text = collapseSpace(string(raw))
		} else {
			c.over = true // its referrer reports it
		}
		p.cont[id] = c
	}
	if p.open == 0 {
		p.text = p.text[:0] // nothing open refers to it any more
	}
	p.pop()
}

func (p *ixParser) newFact(t xml.StartElement, lang string) ixPending {
	f := Fact{Lang: lang, Numeric: t.Name.Local == "nonFraction"}
	f.ID, _ = attr(t, "", "id")
	f.ContextRef, _ = attr(t, "", "contextRef")
	f.UnitRef, _ = attr(t, "", "unitRef")
	f.Format, _ = attr(t, "", "format")
	if v, ok := attr(t, nsXSI, "nil"); ok && (v == "true" || v == "1") {
		f.Nil = true
	}
	var pend ixPending
	name, _ := attr(t, "", "name")
	q, err := p.ns.resolve(name)
	if err != nil {
		q = QName{Local: name}
	}
	f.Concept = q
	pend.continued, _ = attr(t, "", "continuedAt")
	pend.rawScale, _ = attr(t, "", "scale")
	pend.rawSign, _ = attr(t, "", "sign")
	pend.rawDecimal, pend.hasDecimal = attr(t, "", "decimals")
	pend.fact = f
	return pend
}

// finish computes fact values, appends continuations and resolves
// references.
func (p *ixParser) finish() {
	facts := make([]Fact, 0, len(p.pending))
	for i := range p.pending {
		pd := &p.pending[i]
		f := pd.fact
		if err := p.value(pd, &f); err != nil {
			p.in.Issues = append(p.in.Issues, Issue{f.Concept.String(), f.ID, err.Error()})
			continue
		}
		facts = append(facts, f)
	}
	p.in.resolveFacts(facts)
}

func (p *ixParser) value(pd *ixPending, f *Fact) error {
	if f.Concept.Space == "" && f.Concept.Prefix == "" {
		return fmt.Errorf("bad or missing name %q", f.Concept.Local)
	}
	if pd.hasDecimal {
		var err error
		if f.Decimals, err = parseDecimalsAttr(pd.rawDecimal); err != nil {
			return err
		}
	}
	if pd.rawScale != "" {
		n, err := strconv.Atoi(strings.TrimSpace(pd.rawScale))
		if err != nil || n > maxScale || n < -maxScale {
			return fmt.Errorf("bad scale %q", pd.rawScale)
		}
		f.Scale = n
	}
	switch pd.rawSign {
	case "":
	case "-":
		f.Sign = true
	default:
		return fmt.Errorf("bad sign %q", pd.rawSign)
	}
	_, format, _ := strings.Cut(f.Format, ":")
	if format == "" {
		format = f.Format
	}
	if pd.overBudget {
		return fmt.Errorf("text over the document's %d-byte limit (MaxText)", p.max)
	}
	if !f.Numeric {
		text, err := p.chain(pd)
		if err != nil {
			return err
		}
		switch format {
		case "fixed-true":
			text = "true"
		case "fixed-false":
			text = "false"
		}
		if !f.Nil {
			f.Text = text
		}
		return nil
	}
	if f.UnitRef == "" {
		return fmt.Errorf("nonFraction without unitRef")
	}
	if f.Nil {
		return nil
	}
	raw := strings.Join(strings.Fields(pd.raw), "")
	num, err := ixNumber(format, raw)
	if err != nil {
		return err
	}
	v, err := parseDecimal(num)
	if err != nil {
		return fmt.Errorf("format %q: %w", f.Format, err)
	}
	if v.Sign() < 0 {
		return fmt.Errorf("negative displayed value %q (sign must be in the sign attribute)", raw)
	}
	v = v.Shift(int32(f.Scale))
	if f.Sign {
		v = v.Neg()
	}
	f.Value = v
	return nil
}

// take spends n bytes of the text budget, or reports that it cannot.
func (p *ixParser) take(n int) bool {
	if int64(n) > p.left {
		p.left = 0
		return false
	}
	p.left -= int64(n)
	return true
}

// chain is a non-numeric fact's text with its continuation chain appended.
// Each continuation may be used once in the whole document (iXBRL 1.1
// 4.1.1: a continuation belongs to one chain), so every chain is walked and
// copied once: the work is linear in the document, and a chain holds no
// more than its continuations' texts, already counted against the budget.
// A second use or a cycle refuses the fact.
func (p *ixParser) chain(pd *ixPending) (string, error) {
	text := collapseSpace(pd.raw)
	if pd.continued == "" {
		return text, nil
	}
	var b strings.Builder
	b.WriteString(text)
	for next := pd.continued; next != ""; {
		c, ok := p.cont[next]
		switch {
		case !ok:
			return "", fmt.Errorf("continuedAt %q not found", next)
		case c.over:
			return "", fmt.Errorf("continuation %q not kept: over the %d-byte text limit (MaxText) or nested deeper than %d (MaxNesting)", next, p.max, p.nest)
		case c.used:
			return "", fmt.Errorf("continuation %q is already part of a chain (a cycle, or a second chain through it)", next)
		}
		c.used = true
		p.cont[next] = c
		if c.text != "" {
			b.WriteByte(' ')
			b.WriteString(c.text)
		}
		next = c.next
	}
	return b.String(), nil
}

// ixNumber applies an inline XBRL transformation to displayed text and
// returns an xs:decimal lexical value.
func ixNumber(format, raw string) (string, error) {
	switch format {
	case "":
		return raw, nil
	case "num-dot-decimal", "numdotdecimal", "numcommadot":
		return strings.NewReplacer(",", "", "'", "", "\u00a0", "").Replace(raw), nil
	case "num-comma-decimal", "numcommadecimal", "numdotcomma":
		return strings.NewReplacer(".", "", "'", "", "\u00a0", "", ",", ".").Replace(raw), nil
	case "fixed-zero", "zerodash", "numdash":
		return "0", nil
	case "numwordsen", "num-words-en":
		return wordsToNumber(raw)
	}
	return "", fmt.Errorf("unsupported format %q", format)
}

var smallNumbers = map[string]int{
	"no": 0, "none": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
	"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
	"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
	"eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// wordsToNumber handles the English number words SEC filers use for small
// counts ("three", "twenty-one", "no"); larger phrases are reported as
// unsupported rather than guessed.
func wordsToNumber(raw string) (string, error) {
	words := strings.FieldsFunc(strings.ToLower(raw), func(r rune) bool { return r == '-' || r == ' ' })
	total := 0
	for _, w := range words {
		n, ok := smallNumbers[w]
		if !ok || len(words) > 2 {
			return "", fmt.Errorf("numwordsen: unsupported %q", raw)
		}
		total += n
	}
	if len(words) == 0 {
		return "", fmt.Errorf("numwordsen: empty")
	}
	return strconv.Itoa(total), nil
}
