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

// nsStack tracks the namespace declarations in scope.
type nsStack struct{ frames []map[string]string } // prefix -> URI; "" is the default namespace

func (s *nsStack) push(se xml.StartElement) {
	var m map[string]string
	for _, a := range se.Attr {
		if a.Name.Space == "xmlns" {
			if m == nil {
				m = map[string]string{}
			}
			m[a.Name.Local] = a.Value
		} else if a.Name.Space == "" && a.Name.Local == "xmlns" {
			if m == nil {
				m = map[string]string{}
			}
			m[""] = a.Value
		}
	}
	s.frames = append(s.frames, m)
}

func (s *nsStack) pop() {
	if len(s.frames) > 0 {
		s.frames = s.frames[:len(s.frames)-1]
	}
}

func (s *nsStack) uri(prefix string) (string, bool) {
	for i := len(s.frames) - 1; i >= 0; i-- {
		if u, ok := s.frames[i][prefix]; ok {
			return u, true
		}
	}
	return "", false
}

func (s *nsStack) prefix(uri string) string {
	for i := len(s.frames) - 1; i >= 0; i-- {
		for p, u := range s.frames[i] {
			if u == uri && p != "" {
				return p
			}
		}
	}
	return ""
}

// name turns an element name (Space is a URI after encoding/xml's
// translation) into a QName with the document's prefix.
func (s *nsStack) name(n xml.Name) QName {
	return QName{Space: n.Space, Prefix: s.prefix(n.Space), Local: n.Local}
}

// resolve parses a QName written as text ("us-gaap:Assets").
func (s *nsStack) resolve(text string) (QName, error) {
	text = strings.TrimSpace(text)
	p, l, ok := strings.Cut(text, ":")
	if !ok {
		p, l = "", text
	}
	if l == "" || strings.ContainsAny(l, " \t\n:") || strings.ContainsAny(p, " \t\n") {
		return QName{}, fmt.Errorf("bad QName %q", text)
	}
	u, _ := s.uri(p)
	return QName{Space: u, Prefix: p, Local: l}, nil
}

func attr(se xml.StartElement, space, local string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value, true
		}
	}
	return "", false
}

// newDecoder returns a decoder that accepts the encodings EDGAR documents
// declare. Non-UTF-8 single-byte encodings are read as Latin-1.
func newDecoder(r io.Reader) *xml.Decoder {
	d := xml.NewDecoder(r)
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "ascii", "us-ascii", "utf-8", "utf8":
			return in, nil
		case "iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
			return &latin1Reader{r: in}, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	return d
}

type latin1Reader struct {
	r   io.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(p) < 2 {
		return 0, io.ErrShortBuffer
	}
	n := len(p) / 2
	if cap(l.buf) < n {
		l.buf = make([]byte, n)
	}
	m, err := l.r.Read(l.buf[:n])
	out := 0
	for _, b := range l.buf[:m] {
		if b < 0x80 {
			p[out] = b
			out++
		} else {
			p[out], p[out+1] = 0xC0|b>>6, 0x80|b&0x3F
			out += 2
		}
	}
	return out, err
}

// node is a small element tree for contexts and units; text-only children
// carry their text resolved as a QName where that makes sense.
type node struct {
	name     xml.Name
	start    xml.StartElement
	children []*node
	text     strings.Builder
	qname    QName // text resolved as a QName, if it parsed as one
	qerr     error
}

// readTree reads the element started by se up to its end, keeping the
// namespace stack in step.
func readTree(d *xml.Decoder, ns *nsStack, se xml.StartElement) (*node, error) {
	root := &node{name: se.Name, start: se}
	stack := []*node{root}
	for len(stack) > 0 {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("in <%s>: %w", se.Name.Local, err)
		}
		cur := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			ns.push(t)
			n := &node{name: t.Name, start: t.Copy()}
			cur.children = append(cur.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			if len(cur.children) == 0 {
				cur.qname, cur.qerr = ns.resolve(cur.text.String())
			}
			stack = stack[:len(stack)-1]
			if len(stack) > 0 { // the caller pops the root's frame
				ns.pop()
			}
		case xml.CharData:
			cur.text.Write(t)
		}
	}
	return root, nil
}

func (n *node) child(local string) *node {
	for _, c := range n.children {
		if c.name.Local == local {
			return c
		}
	}
	return nil
}

func (n *node) allText() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		b.WriteString(n.text.String())
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(n)
	return collapseSpace(b.String())
}

func parseXBRLDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04:05", time.RFC3339, "2006-01-02Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

func buildContext(n *node, ns *nsStack) (*Context, error) {
	id, _ := attr(n.start, "", "id")
	c := &Context{ID: id}
	ent := n.child("entity")
	if ent == nil {
		return nil, fmt.Errorf("context %q: no entity", id)
	}
	if idn := ent.child("identifier"); idn != nil {
		c.Scheme, _ = attr(idn.start, "", "scheme")
		c.Identifier = strings.TrimSpace(idn.text.String())
	}
	addDims := func(container *node, scenario bool) error {
		if container == nil {
			return nil
		}
		for _, m := range container.children {
			dimAttr, _ := attr(m.start, "", "dimension")
			switch m.name.Local {
			case "explicitMember":
				dq, err := resolveAt(ns, m, dimAttr)
				if err != nil {
					return err
				}
				if m.qerr != nil {
					return m.qerr
				}
				c.Dims = append(c.Dims, Dimension{Dimension: dq, Member: m.qname, Scenario: scenario})
			case "typedMember":
				dq, err := resolveAt(ns, m, dimAttr)
				if err != nil {
					return err
				}
				c.Dims = append(c.Dims, Dimension{Dimension: dq, Typed: m.allText(), Scenario: scenario})
			}
		}
		return nil
	}
	if err := addDims(ent.child("segment"), false); err != nil {
		return nil, fmt.Errorf("context %q segment: %w", id, err)
	}
	if err := addDims(n.child("scenario"), true); err != nil {
		return nil, fmt.Errorf("context %q scenario: %w", id, err)
	}
	p := n.child("period")
	if p == nil {
		return nil, fmt.Errorf("context %q: no period", id)
	}
	var err error
	switch {
	case p.child("instant") != nil:
		c.Period.Instant = true
		c.Period.End, err = parseXBRLDate(p.child("instant").text.String())
	case p.child("forever") != nil:
		c.Period.Forever = true
	case p.child("startDate") != nil && p.child("endDate") != nil:
		c.Period.Start, err = parseXBRLDate(p.child("startDate").text.String())
		if err == nil {
			c.Period.End, err = parseXBRLDate(p.child("endDate").text.String())
		}
	default:
		err = errors.New("period has neither instant, forever nor start/end")
	}
	if err != nil {
		return nil, fmt.Errorf("context %q: %w", id, err)
	}
	return c, nil
}

// resolveAt resolves an attribute QName. Namespace declarations on the
// member element itself are rare; the document-level scope is used.
func resolveAt(ns *nsStack, m *node, text string) (QName, error) {
	ns.push(m.start)
	defer ns.pop()
	return ns.resolve(text)
}

func buildUnit(n *node) (*Unit, error) {
	id, _ := attr(n.start, "", "id")
	u := &Unit{ID: id}
	measures := func(p *node) ([]QName, error) {
		var qs []QName
		for _, c := range p.children {
			if c.name.Local == "measure" {
				if c.qerr != nil {
					return nil, c.qerr
				}
				qs = append(qs, c.qname)
			}
		}
		return qs, nil
	}
	var err error
	if div := n.child("divide"); div != nil {
		num, den := div.child("unitNumerator"), div.child("unitDenominator")
		if num == nil || den == nil {
			return nil, fmt.Errorf("unit %q: divide without numerator and denominator", id)
		}
		if u.Numerator, err = measures(num); err == nil {
			u.Denominator, err = measures(den)
		}
	} else {
		u.Numerator, err = measures(n)
	}
	if err == nil && (len(u.Numerator) == 0 || (n.child("divide") != nil && len(u.Denominator) == 0)) {
		err = errors.New("no measure")
	}
	if err != nil {
		return nil, fmt.Errorf("unit %q: %w", id, err)
	}
	return u, nil
}

// parseDecimal parses an xs:decimal (optionally with an exponent, for
// xs:double-typed items) exactly. It rejects INF, NaN and huge exponents.
func parseDecimal(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return decimal.Decimal{}, fmt.Errorf("not a decimal: %q", s)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > maxScale || e < -maxScale {
			return decimal.Decimal{}, fmt.Errorf("bad exponent in %q", s)
		}
		i = len(s)
	}
	if i != len(s) {
		return decimal.Decimal{}, fmt.Errorf("not a decimal: %q", s)
	}
	return decimal.NewFromString(s)
}

func parseDecimalsAttr(v string) (Decimals, error) {
	v = strings.TrimSpace(v)
	if v == "INF" {
		return Decimals{Set: true, Inf: true}, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > maxDecimal || n < -maxDecimal {
		return Decimals{}, fmt.Errorf("bad decimals %q", v)
	}
	return Decimals{Set: true, N: n}, nil
}

// resolveFacts links facts to their contexts and units, moving facts whose
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
		if _, dup := in.Contexts[c.ID]; dup {
			return fmt.Errorf("duplicate context id %q", c.ID)
		}
		in.Contexts[c.ID] = c
		return nil
	}
	u, err := buildUnit(n)
	if err != nil {
		return err
	}
	if _, dup := in.Units[u.ID]; dup {
		return fmt.Errorf("duplicate unit id %q", u.ID)
	}
	in.Units[u.ID] = u
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
