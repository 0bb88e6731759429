package filings

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"thunderline/adapters/edgar"
	"thunderline/adapters/edgar/edgarrec"
	"thunderline/adapters/edgar/source"
)

// Key identifies a filing: the company, the form and the period it reports.
type Key struct {
	CIK       uint64
	Form      string
	PeriodEnd int64 // ns UTC, the period end date at 00:00
}

// Part is what one document says about one filing: its facts, its
// sections, or both.
type Part struct {
	Key         Key
	Accession   string
	FilingTime  int64 // ns UTC; 0 when the document does not say
	PeriodStart int64 // start of the reporting duration, 0 when unknown
	Facts       *Fundamentals
	// Sections is nil when the document carries no text for the filing.
	Sections []edgar.Section
	// SectionsMissing names the wanted items the text does not have
	// (reported, never guessed).
	SectionsMissing []string
	// Text is the text features of Sections (nil without sections).
	Text *TextFeatures
}

// Parsed is one document as parsed: its EDGARDoc and the filing parts it
// carries. Meta documents (indexes, submissions lists) carry no filing part.
type Parsed struct {
	Doc   edgarrec.Doc
	Parts []Part
	Meta  bool
	// Recovered is set when the document (or the primary document of a
	// submission) was not well-formed XML and its inline XBRL was read
	// again as HTML5; Doc.Issues says so, with what came out.
	Recovered bool
}

// Kind of document, as the source sniffed it.
type Kind string

const (
	KindSGML         Kind = "sgml"
	KindXBRL         Kind = "xbrl"
	KindInlineXBRL   Kind = "ixbrl"
	KindHTML         Kind = "html"
	KindCompanyFacts Kind = "companyfacts"
	KindSubmissions  Kind = "submissions"
	KindIndex        Kind = "index"
)

// ErrUnsupported is returned for a document that is none of the kinds.
var ErrUnsupported = errors.New("filings: not an EDGAR document this engine reads")

// Parse reads one document and computes the text features of its
// sections with the word list. kind is what the source sniffed; name is
// where it came from. An error means nothing usable could be read; partial
// problems (a fact that could not be read, a missing section) are listed in
// Doc.Issues.
func Parse(name string, kind Kind, body []byte) (*Parsed, error) {
	return ParseWith(name, kind, body, WordList)
}

// ParseWith is Parse with a sentiment scorer of the caller's.
func ParseWith(name string, kind Kind, body []byte, score func(string) edgarrec.Sentiment) (*Parsed, error) {
	p, err := parse(name, kind, body)
	if err != nil {
		return nil, err
	}
	for i := range p.Parts {
		p.Parts[i].ComputeText(score)
	}
	return p, nil
}

func parse(name string, kind Kind, body []byte) (*Parsed, error) {
	p := &Parsed{Doc: edgarrec.Doc{Name: name, Source: string(kind), Raw: sha256.Sum256(body), Size: uint64(len(body))}}
	var err error
	switch kind {
	case KindSGML:
		err = p.sgml(body)
	case KindXBRL:
		err = p.instance(body, false, nil)
	case KindInlineXBRL, KindHTML:
		err = p.instance(body, true, body)
	case KindCompanyFacts:
		err = p.companyFacts(body)
	case KindSubmissions:
		p.Meta = true
		_, err = edgar.ParseSubmissions(bytes.NewReader(body))
	case KindIndex:
		p.Meta = true
		// Strict: an index with a line that cannot be read is rejected.
		var bad int
		var firstBad error
		_, bad, firstBad, err = source.ParseIndex(body)
		if err == nil && bad > 0 {
			err = firstBad
		}
	default:
		err = ErrUnsupported
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s (%s): %w", name, kind, err)
	}
	return p, nil
}

func dayNs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).UnixNano()
}

func parseCIK(s string) uint64 {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// wantsSections reports whether a form is split into items.
func wantsSections(form string) bool {
	return strings.HasPrefix(form, "10-K") || strings.HasPrefix(form, "10-Q")
}

// quarterly reports whether a form covers a quarter (its duration facts
// are the shortest ones ending at the period end).
func quarterly(form string) bool {
	return strings.HasPrefix(form, "10-Q") || strings.HasPrefix(form, "6-K")
}

func (p *Parsed) sgml(body []byte) error {
	sub, err := edgar.ParseSGML(bytes.NewReader(body))
	if err != nil {
		return err
	}
	d := &p.Doc
	d.Form, d.Accession = sub.Type, sub.AccessionNumber
	if f, ok := sub.Filer(); ok {
		d.CIK, d.Company = parseCIK(f.CIK), f.Name
	} else if len(sub.Parties) > 0 {
		d.CIK, d.Company = parseCIK(sub.Parties[0].CIK), sub.Parties[0].Name
	}
	if !sub.Accepted.IsZero() {
		d.FilingTime = sub.Accepted.UTC().UnixNano()
	} else {
		d.FilingTime = dayNs(sub.FiledAsOf)
	}
	d.PeriodEnd = dayNs(sub.PeriodOfReport)
	part := Part{Key: Key{CIK: d.CIK, Form: d.Form, PeriodEnd: d.PeriodEnd}, Accession: d.Accession, FilingTime: d.FilingTime}
	// Facts: an XBRL instance among the documents (EX-101.INS, or the
	// XML instance EDGAR extracts from inline XBRL), else inline XBRL in
	// the primary document.
	var primary []byte
	for i := range sub.Documents {
		doc := &sub.Documents[i]
		if doc.Uuencoded {
			continue
		}
		if primary == nil && (doc.Type == sub.Type || i == 0) {
			primary = doc.Body
		}
		if body := unwrapXML(doc.Body); part.Facts == nil && (doc.Type == "EX-101.INS" || (doc.Type == "XML" && isInstance(body))) {
			in, err := edgar.ParseXBRL(bytes.NewReader(body))
			if err != nil {
				d.Issues = append(d.Issues, fmt.Sprintf("document %d (%s): %v", doc.Sequence, doc.Type, err))
				continue
			}
			p.useInstance(in, &part)
		}
	}
	var ix *edgar.Instance
	if part.Facts == nil && primary != nil && bytes.Contains(primary, []byte("ix:header")) {
		if in, err := edgar.ParseInlineXBRL(bytes.NewReader(primary)); err == nil {
			p.useInstance(in, &part)
			ix = in
		} else {
			d.Issues = append(d.Issues, fmt.Sprintf("primary document inline XBRL: %v", err))
		}
	}
	// The instance may name the period; the header wins when both do.
	if d.PeriodEnd == 0 {
		d.PeriodEnd = part.Key.PeriodEnd
	}
	part.Key = Key{CIK: d.CIK, Form: d.Form, PeriodEnd: d.PeriodEnd}
	if wantsSections(d.Form) && primary != nil {
		p.sections(primary, &part)
	}
	p.noteRecovery(ix, &part, "primary document: ")
	if d.CIK != 0 && (part.Facts != nil || part.Sections != nil) {
		p.Parts = append(p.Parts, part)
	}
	return nil
}

// parseDate reads the date layouts filings use for DocumentPeriodEndDate:
// ISO (XBRL) and the displayed forms of inline XBRL.
func parseDate(s string) (time.Time, bool) {
	s = strings.Join(strings.Fields(s), " ")
	for _, layout := range [...]string{"2006-01-02", "January 2, 2006", "January 2 2006", "Jan. 2, 2006", "Jan 2, 2006", "2 January 2006", "01/02/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// unwrapXML strips the <XML>…</XML> wrapper EDGAR puts around XML
// documents in a full-text submission.
func unwrapXML(b []byte) []byte {
	t := bytes.TrimSpace(b)
	if !bytes.HasPrefix(t, []byte("<XML>")) {
		return b
	}
	t = bytes.TrimSpace(bytes.TrimPrefix(t, []byte("<XML>")))
	return bytes.TrimSpace(bytes.TrimSuffix(t, []byte("</XML>")))
}

func isInstance(b []byte) bool {
	head := b[:min(len(b), 4096)]
	return bytes.Contains(head, []byte("<xbrli:xbrl")) || bytes.Contains(head, []byte("<xbrl"))
}

// instance reads an XBRL instance (or inline XBRL, whose HTML also gives
// the sections).
func (p *Parsed) instance(body []byte, inline bool, html []byte) error {
	var in *edgar.Instance
	var err error
	if inline {
		in, err = edgar.ParseInlineXBRL(bytes.NewReader(body))
	} else {
		in, err = edgar.ParseXBRL(bytes.NewReader(body))
	}
	if err != nil {
		return err
	}
	var part Part
	p.useInstance(in, &part)
	d := &p.Doc
	d.CIK, d.Form, d.PeriodEnd = part.Key.CIK, part.Key.Form, part.Key.PeriodEnd
	if d.CIK == 0 {
		return errors.New("no CIK: neither dei:EntityCentralIndexKey nor a context entity identifier")
	}
	if html != nil && wantsSections(d.Form) {
		p.sections(html, &part)
	}
	p.noteRecovery(in, &part, "")
	p.Parts = append(p.Parts, part)
	return nil
}

// noteRecovery lists in the doc's issues that in (nil: none) was not
// well-formed XML and was read as HTML5, with the sections and facts that
// came out of it.
func (p *Parsed) noteRecovery(in *edgar.Instance, part *Part, where string) {
	if in == nil || in.Recovery == nil {
		return
	}
	p.Recovered = true
	p.Doc.Issues = append(p.Doc.Issues, fmt.Sprintf("%s%s: %d sections, %d facts", where, in.Recovery, len(part.Sections), len(in.Facts)))
}

// useInstance records an instance's facts in the doc and its fundamentals
// in part, and takes CIK, form, company and period end from its dei facts.
func (p *Parsed) useInstance(in *edgar.Instance, part *Part) {
	d := &p.Doc
	dei := func(local string) string {
		for _, f := range in.Lookup(local) {
			if f.Concept.Prefix == "dei" || strings.Contains(f.Concept.Space, "/dei/") {
				if len(f.Context.Dims) == 0 {
					if f.Numeric {
						return f.Value.String()
					}
					return strings.TrimSpace(f.Text)
				}
			}
		}
		return ""
	}
	cik := parseCIK(dei("EntityCentralIndexKey"))
	if cik == 0 {
		for i := range in.Facts {
			if c := parseCIK(in.Facts[i].Context.Identifier); c != 0 {
				cik = c
				break
			}
		}
	}
	form := dei("DocumentType")
	var periodEnd int64
	if t, ok := parseDate(dei("DocumentPeriodEndDate")); ok {
		periodEnd = t.UnixNano()
	} else {
		// Inline XBRL may display the date in a layout not listed; the
		// document-type fact's context ends on the period end.
		for _, f := range in.Lookup("DocumentType") {
			if len(f.Context.Dims) == 0 && !f.Context.Period.Instant && !f.Context.Period.End.IsZero() {
				periodEnd = dayNs(f.Context.Period.End)
				break
			}
		}
	}
	if d.Company == "" {
		d.Company = dei("EntityRegistrantName")
	}
	if part.Key.CIK == 0 {
		part.Key.CIK = cik
	}
	if part.Key.Form == "" {
		part.Key.Form = form
	}
	if part.Key.PeriodEnd == 0 {
		part.Key.PeriodEnd = periodEnd
	}
	cands := make([]cand, 0, len(in.Facts))
	for i := range in.Facts {
		f := &in.Facts[i]
		d.Facts = append(d.Facts, docFact(f))
		if !f.Numeric || f.Nil {
			continue
		}
		c := cand{concept: f.Concept.Prefix + ":" + f.Concept.Local, value: f.Value, unit: f.Unit.String(),
			start: f.Context.Period.Start, end: f.Context.Period.End, instant: f.Context.Period.Instant,
			dims: len(f.Context.Dims) > 0}
		cands = append(cands, c)
	}
	for _, is := range in.Issues {
		d.Issues = append(d.Issues, is.Error())
	}
	if part.Key.PeriodEnd == 0 {
		part.Key.PeriodEnd = latestEnd(cands)
		d.Issues = append(d.Issues, "no dei:DocumentPeriodEndDate: period end taken as the latest context end")
	}
	fu := pickFundamentals(cands, part.Key.PeriodEnd, part.Key.Form)
	part.Facts = fu
	part.PeriodStart = fu.PeriodStart
}

func docFact(f *edgar.Fact) edgarrec.Fact {
	out := edgarrec.Fact{Concept: f.Concept.String(), Decimals: f.Decimals.String()}
	if f.Numeric {
		if !f.Nil {
			out.Value = f.Value.String()
		}
		out.Unit = f.Unit.String()
	} else {
		out.Value = f.Text
	}
	per := f.Context.Period
	if !per.Instant && !per.Forever {
		out.Start = per.Start.Format("2006-01-02")
	}
	if !per.Forever {
		out.End = per.End.Format("2006-01-02")
	}
	for _, dm := range f.Context.Dims {
		m := dm.Member.String()
		if dm.Member == (edgar.QName{}) {
			m = dm.Typed
		}
		out.Dims = append(out.Dims, edgarrec.Dim{Axis: dm.Dimension.String(), Member: m})
	}
	return out
}

// sections splits the HTML of a 10-K or 10-Q and notes what is missing.
func (p *Parsed) sections(html []byte, part *Part) {
	secs, err := edgar.Sections(html)
	if err != nil {
		p.Doc.Issues = append(p.Doc.Issues, "sections: "+err.Error())
		part.SectionsMissing = []string{"Risk Factors (Item 1A)", "MD&A"}
		return
	}
	part.Sections = secs
	for _, s := range secs {
		p.Doc.Sections = append(p.Doc.Sections, edgarrec.Section{Part: s.Part, Item: s.Item, Title: s.Title, Text: s.Text})
	}
	var me *edgar.MissingError
	if _, err := edgar.RiskFactors(secs); errors.As(err, &me) {
		part.SectionsMissing = append(part.SectionsMissing, me.Missing...)
	}
	if _, err := edgar.MDA(secs); errors.As(err, &me) {
		part.SectionsMissing = append(part.SectionsMissing, me.Missing...)
	}
	for _, m := range part.SectionsMissing {
		p.Doc.Issues = append(p.Doc.Issues, "section missing: "+m)
	}
}

// companyFacts turns the companyfacts answer into one part per accession
// of a periodic report (10-K, 10-Q, 20-F, 40-F and their amendments).
func (p *Parsed) companyFacts(body []byte) error {
	cf, err := edgar.ParseCompanyFacts(bytes.NewReader(body))
	if err != nil {
		return err
	}
	d := &p.Doc
	d.CIK, d.Company = parseCIK(cf.CIK), cf.EntityName
	type acc struct {
		form  string
		filed time.Time
		cands []cand
	}
	byAccn := map[string]*acc{}
	var order []string
	taxes := make([]string, 0, len(cf.Concepts))
	for t := range cf.Concepts {
		taxes = append(taxes, t)
	}
	slices.Sort(taxes)
	for _, tax := range taxes {
		names := make([]string, 0, len(cf.Concepts[tax]))
		for n := range cf.Concepts[tax] {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, name := range names {
			c := cf.Concepts[tax][name]
			units := make([]string, 0, len(c.Units))
			for u := range c.Units {
				units = append(units, u)
			}
			slices.Sort(units)
			for _, u := range units {
				for _, f := range c.Units[u] {
					end := ""
					if !f.End.IsZero() {
						end = f.End.Format("2006-01-02")
					}
					start := ""
					if !f.Start.IsZero() {
						start = f.Start.Format("2006-01-02")
					}
					d.Facts = append(d.Facts, edgarrec.Fact{Concept: tax + ":" + name, Value: f.Val.String(), Unit: u, Start: start, End: end})
					if !periodic(f.Form) || f.Accn == "" {
						continue
					}
					a := byAccn[f.Accn]
					if a == nil {
						a = &acc{form: f.Form, filed: f.Filed}
						byAccn[f.Accn] = a
						order = append(order, f.Accn)
					}
					a.cands = append(a.cands, cand{concept: tax + ":" + name, value: f.Val, unit: u, start: f.Start, end: f.End, instant: f.Start.IsZero()})
				}
			}
		}
	}
	slices.Sort(order) // accession numbers: filer id, year, sequence
	for _, accn := range order {
		a := byAccn[accn]
		pe := latestEnd(a.cands)
		fu := pickFundamentals(a.cands, pe, a.form)
		p.Parts = append(p.Parts, Part{Key: Key{CIK: d.CIK, Form: a.form, PeriodEnd: pe}, Accession: accn,
			FilingTime: dayNs(a.filed), PeriodStart: fu.PeriodStart, Facts: fu})
	}
	if d.CIK == 0 {
		return errors.New("companyfacts without a cik")
	}
	return nil
}

func periodic(form string) bool {
	for _, f := range [...]string{"10-K", "10-Q", "20-F", "40-F", "10-KT", "10-QT"} {
		if form == f || form == f+"/A" {
			return true
		}
	}
	return false
}
