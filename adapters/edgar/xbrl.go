package edgar

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Namespace URIs the XBRL parsers recognise.
const (
	nsXBRLI    = "http://www.xbrl.org/2003/instance"
	nsLink     = "http://www.xbrl.org/2003/linkbase"
	nsXBRLDI   = "http://xbrl.org/2006/xbrldi"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"
	nsIX11     = "http://www.xbrl.org/2013/inlineXBRL"
	nsIX10     = "http://www.xbrl.org/2008/inlineXBRL"
	maxScale   = 1000 // |scale| and |exponent| beyond this are rejected as bad input
	maxDecimal = 10000
)

// QName is a namespace-qualified name. Prefix is the prefix the document
// used (for display and lookup by "prefix:local"); Space is the URI it was
// bound to (empty if the prefix was undeclared).
type QName struct {
	Space, Prefix, Local string
}

func (q QName) String() string {
	if q.Prefix == "" {
		return q.Local
	}
	return q.Prefix + ":" + q.Local
}

// Period is an XBRL context period. Dates are as written (a date without a
// time is midnight UTC of that day; XBRL reads an end date as the end of that
// day, callers comparing with instants must keep that in mind).
type Period struct {
	Instant    bool
	Forever    bool
	Start, End time.Time // for an instant, End is the instant and Start is zero
}

func (p Period) String() string {
	switch {
	case p.Forever:
		return "forever"
	case p.Instant:
		return p.End.Format(time.DateOnly)
	}
	return p.Start.Format(time.DateOnly) + ".." + p.End.Format(time.DateOnly)
}

// Dimension is one member of a context's segment or scenario.
type Dimension struct {
	Dimension QName
	Member    QName  // explicit member; zero for a typed member
	Typed     string // text of a typed member's value element, whitespace collapsed
	Scenario  bool   // from <scenario> rather than <segment>
}

// Context is a resolved xbrli:context.
type Context struct {
	ID         string
	Scheme     string // entity identifier scheme, e.g. http://www.sec.gov/CIK
	Identifier string // entity identifier, e.g. 0000320193
	Period     Period
	Dims       []Dimension
}

// Unit is a resolved xbrli:unit: a product of measures, or a ratio.
type Unit struct {
	ID          string
	Numerator   []QName // the measures (or the numerator of a divide)
	Denominator []QName // empty unless the unit is a divide
}

func (u *Unit) String() string {
	if u == nil {
		return ""
	}
	join := func(qs []QName) string {
		s := make([]string, len(qs))
		for i, q := range qs {
			s[i] = q.String()
		}
		return strings.Join(s, "*")
	}
	if len(u.Denominator) == 0 {
		return join(u.Numerator)
	}
	return join(u.Numerator) + "/" + join(u.Denominator)
}

// Decimals is the stated accuracy of a numeric fact (the decimals
// attribute). It is never applied to Value.
type Decimals struct {
	Set bool // the attribute was present
	Inf bool // decimals="INF"
	N   int  // decimals="N" (may be negative: -6 means millions)
}

func (d Decimals) String() string {
	switch {
	case !d.Set:
		return ""
	case d.Inf:
		return "INF"
	}
	return strconv.Itoa(d.N)
}

// Fact is one XBRL fact.
type Fact struct {
	Concept    QName
	ID         string
	ContextRef string
	UnitRef    string
	Context    *Context // resolved; never nil in Instance.Facts
	Unit       *Unit    // resolved; nil for non-numeric facts
	Numeric    bool
	Nil        bool            // xsi:nil="true"; Value and Text are zero
	Value      decimal.Decimal // numeric facts: exact, scale and sign applied
	Decimals   Decimals
	Text       string // non-numeric facts: the text content (see doc.go)
	Lang       string // xml:lang in scope, if any
	// Inline XBRL only: the attributes as written.
	Format string // e.g. "ixt:num-dot-decimal"
	Scale  int
	Sign   bool // sign="-"
}

// Issue is a fact or context the parser could not accept, with the reason.
// Such facts are not in Instance.Facts.
type Issue struct {
	Concept string
	ID      string
	Reason  string
}

func (i Issue) Error() string { return fmt.Sprintf("fact %s (id %q): %s", i.Concept, i.ID, i.Reason) }

// Instance is a parsed XBRL instance or inline XBRL document.
type Instance struct {
	Contexts map[string]*Context
	Units    map[string]*Unit
	Facts    []Fact
	Issues   []Issue
	// Recovery is set when an inline XBRL document was not well-formed
	// XML and was read again as HTML5 (see ParseInlineXBRL).
	Recovery *Recovery
}

// Lookup returns the facts whose concept is name, written either
// "prefix:Local" as in the document or just "Local".
func (in *Instance) Lookup(name string) []Fact {
	var out []Fact
	for _, f := range in.Facts {
		if f.Concept.String() == name || (!strings.Contains(name, ":") && f.Concept.Local == name) {
			out = append(out, f)
		}
	}
	return out
}

// ErrNotXBRL is returned when the document root is not an XBRL instance.
var ErrNotXBRL = errors.New("edgar: not an XBRL instance")

// references dangle to Issues.
func (in *Instance) resolveFacts(facts []Fact) {
	for _, f := range facts {
		c, ok := in.Contexts[f.ContextRef]
		if !ok {
			in.Issues = append(in.Issues, Issue{f.Concept.String(), f.ID, fmt.Sprintf("unknown contextRef %q", f.ContextRef)})
			continue
		}
		f.Context = c
		if f.Numeric {
			u, ok := in.Units[f.UnitRef]
			if !ok {
				in.Issues = append(in.Issues, Issue{f.Concept.String(), f.ID, fmt.Sprintf("unknown unitRef %q", f.UnitRef)})
				continue
			}
			f.Unit = u
		}
		in.Facts = append(in.Facts, f)
	}
}

// ParseXBRL reads an XBRL 2.1 instance document (<xbrl> root).
func ParseXBRL(r io.Reader) (*Instance, error) {
	d := newDecoder(r)
	ns := &nsStack{}
	in := &Instance{Contexts: map[string]*Context{}, Units: map[string]*Unit{}}
	var facts []Fact
	depth := 0
	sawRoot := false
	var langs []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse XBRL: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			ns.push(t)
			lang, ok := attr(t, "http://www.w3.org/XML/1998/namespace", "lang")
			if !ok && len(langs) > 0 {
				lang = langs[len(langs)-1]
			}
			langs = append(langs, lang)
			depth++
			if depth == 1 {
				sawRoot = true
				if t.Name.Local != "xbrl" || t.Name.Space != nsXBRLI {
					return nil, fmt.Errorf("%w: root <%s %s>", ErrNotXBRL, t.Name.Space, t.Name.Local)
				}
				continue
			}
			switch {
			case t.Name.Space == nsXBRLI && (t.Name.Local == "context" || t.Name.Local == "unit"):
				n, err := readTree(d, ns, t)
				if err != nil {
					return nil, fmt.Errorf("parse XBRL: %w", err)
				}
				if err := in.addResource(n, ns); err != nil {
					in.Issues = append(in.Issues, Issue{Concept: t.Name.Local, Reason: err.Error()})
				}
				endElem(ns, &depth, &langs)
			case t.Name.Space == nsLink || t.Name.Space == nsXBRLI:
				if err := d.Skip(); err != nil {
					return nil, fmt.Errorf("parse XBRL: %w", err)
				}
				endElem(ns, &depth, &langs)
			default:
				if _, ok := attr(t, "", "contextRef"); !ok {
					continue // a tuple: its children are facts
				}
				f, ferr, err := readInstanceFact(d, ns, t, lang)
				if err != nil {
					return nil, fmt.Errorf("parse XBRL: %w", err)
				}
				endElem(ns, &depth, &langs)
				if ferr != nil {
					in.Issues = append(in.Issues, Issue{f.Concept.String(), f.ID, ferr.Error()})
					continue
				}
				facts = append(facts, f)
			}
		case xml.EndElement:
			endElem(ns, &depth, &langs)
		}
	}
	if !sawRoot {
		return nil, fmt.Errorf("%w: no root element", ErrNotXBRL)
	}
	in.resolveFacts(facts)
	return in, nil
}

func endElem(ns *nsStack, depth *int, langs *[]string) {
	ns.pop()
	*depth--
	if n := len(*langs); n > 0 {
		*langs = (*langs)[:n-1]
	}
}

func (in *Instance) addResource(n *node, ns *nsStack) error {
	if n.name.Local == "context" {
		c, err := buildContext(n, ns)
		if err != nil {
			return err
		}
		return addUnique(in.Contexts, c.ID, c, "context")
	}
	u, err := buildUnit(n)
	if err != nil {
		return err
	}
	return addUnique(in.Units, u.ID, u, "unit")
}

// addUnique adds v under id unless m has that id already (what names the
// kind of resource in the error).
func addUnique[V any](m map[string]V, id string, v V, what string) error {
	if _, dup := m[id]; dup {
		return fmt.Errorf("duplicate %s id %q", what, id)
	}
	m[id] = v
	return nil
}

// readInstanceFact reads a fact element; ferr is a problem with the fact
// itself, err a problem with the document.
func readInstanceFact(d *xml.Decoder, ns *nsStack, se xml.StartElement, lang string) (f Fact, ferr, err error) {
	f = Fact{Concept: ns.name(se.Name), Lang: lang}
	f.ID, _ = attr(se, "", "id")
	f.ContextRef, _ = attr(se, "", "contextRef")
	f.UnitRef, f.Numeric = attr(se, "", "unitRef")
	if v, ok := attr(se, nsXSI, "nil"); ok && (v == "true" || v == "1") {
		f.Nil = true
	}
	var text strings.Builder
	for lvl := 1; lvl > 0; {
		tok, err := d.Token()
		if err != nil {
			return f, nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			lvl++
		case xml.EndElement:
			lvl--
		case xml.CharData:
			text.Write(t)
		}
	}
	if v, ok := attr(se, "", "decimals"); ok {
		if f.Decimals, ferr = parseDecimalsAttr(v); ferr != nil {
			return f, ferr, nil
		}
	}
	switch {
	case f.Nil:
	case f.Numeric:
		f.Value, ferr = parseDecimal(text.String())
	default:
		f.Text = strings.TrimSpace(text.String())
	}
	return f, ferr, nil
}
