package edgar

import (
	"encoding/xml"
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
func ParseInlineXBRL(r io.Reader) (*Instance, error) {
	d := newDecoder(r)
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	p := &ixParser{
		d:    d,
		in:   &Instance{Contexts: map[string]*Context{}, Units: map[string]*Unit{}},
		cont: map[string]ixCont{},
	}
	if err := p.run(); err != nil {
		return nil, fmt.Errorf("parse inline XBRL: %w", err)
	}
	if !p.sawIX {
		return nil, fmt.Errorf("%w: no inline XBRL elements", ErrNotXBRL)
	}
	p.finish()
	return p.in, nil
}

type ixFrame struct {
	kind int // what closing this element does
	fact int // index into pending for ixFact frames
	coll *strings.Builder
}

const (
	ixOther = iota
	ixFact
	ixExclude
	ixContinuation
)

type ixPending struct {
	fact       Fact
	text       *strings.Builder
	continued  string // continuedAt
	rawScale   string
	rawSign    string
	rawDecimal string
	hasDecimal bool
}

type ixCont struct {
	text string
	next string
}

type ixParser struct {
	d       *xml.Decoder
	ns      nsStack
	in      *Instance
	frames  []ixFrame
	colls   []*strings.Builder // open text collectors
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
			if p.exclude == 0 {
				for _, c := range p.colls {
					c.Write(t)
				}
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
	case t.Name.Local == "nonFraction" || t.Name.Local == "nonNumeric":
		p.sawIX = true
		fr.kind, fr.fact = ixFact, len(p.pending)
		fr.coll = &strings.Builder{}
		p.pending = append(p.pending, p.newFact(t, lang, fr.coll))
	case t.Name.Local == "exclude":
		fr.kind = ixExclude
		p.exclude++
	case t.Name.Local == "continuation":
		fr.kind = ixContinuation
		fr.coll = &strings.Builder{}
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
	if fr.coll != nil {
		p.colls = append(p.colls, fr.coll)
	}
	p.frames = append(p.frames, fr)
	return nil
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
	if fr.coll != nil {
		p.colls = p.colls[:len(p.colls)-1]
	}
	switch fr.kind {
	case ixExclude:
		p.exclude--
	case ixContinuation:
		id := p.contID[len(p.contID)-1]
		p.contID = p.contID[:len(p.contID)-1]
		c := p.cont[id]
		c.text = collapseSpace(fr.coll.String())
		p.cont[id] = c
	}
	p.pop()
}

func (p *ixParser) newFact(t xml.StartElement, lang string, coll *strings.Builder) ixPending {
	f := Fact{Lang: lang, Numeric: t.Name.Local == "nonFraction"}
	f.ID, _ = attr(t, "", "id")
	f.ContextRef, _ = attr(t, "", "contextRef")
	f.UnitRef, _ = attr(t, "", "unitRef")
	f.Format, _ = attr(t, "", "format")
	if v, ok := attr(t, nsXSI, "nil"); ok && (v == "true" || v == "1") {
		f.Nil = true
	}
	pend := ixPending{text: coll}
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
	if !f.Numeric {
		text := collapseSpace(pd.text.String())
		seen := map[string]bool{}
		for next := pd.continued; next != "" && !seen[next]; {
			seen[next] = true
			c, ok := p.cont[next]
			if !ok {
				return fmt.Errorf("continuedAt %q not found", next)
			}
			if c.text != "" {
				text += " " + c.text
			}
			next = c.next
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
	raw := strings.Join(strings.Fields(pd.text.String()), "")
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
