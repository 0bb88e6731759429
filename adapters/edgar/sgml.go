package edgar

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrNoHeader is returned by ParseSGML when the input has no <SEC-HEADER> block.
var ErrNoHeader = errors.New("edgar: no <SEC-HEADER> block")

// Submission is an EDGAR full-text submission (the .txt file with the
// <SEC-DOCUMENT>/<SEC-HEADER> wrapper) split into its header and documents.
type Submission struct {
	AccessionNumber     string    // "0000950129-95-001652"
	Type                string    // CONFORMED SUBMISSION TYPE, e.g. "10-K", "SC TO-T/A"
	PublicDocumentCount int       // as stated in the header; may differ from len(Documents)
	PeriodOfReport      time.Time // CONFORMED PERIOD OF REPORT (date, UTC midnight); zero if absent
	FiledAsOf           time.Time // FILED AS OF DATE (date, UTC midnight)
	DateOfChange        time.Time // DATE AS OF CHANGE; zero if absent
	// Accepted is ACCEPTANCE-DATETIME in America/New_York (EDGAR's clock);
	// zero for old filings that do not carry it.
	Accepted     time.Time
	Items        []string // ITEM INFORMATION lines (8-K)
	GroupMembers []string
	Parties      []Party
	// Header holds every top-level "KEY: value" and <TAG>value line of the
	// header, in order of appearance, keyed by KEY or TAG.
	Header    map[string][]string
	Documents []Document
}

// Party is one company block of the header (FILER, SUBJECT COMPANY,
// FILED BY, REPORTING-OWNER, ISSUER, ...).
type Party struct {
	Role                 string // "FILER", "SUBJECT COMPANY", "FILED BY", ...
	Name                 string // COMPANY CONFORMED NAME (or OWNER DATA: COMPANY CONFORMED NAME)
	CIK                  string // CENTRAL INDEX KEY, as written (10 digits)
	SIC                  string // STANDARD INDUSTRIAL CLASSIFICATION, as written
	StateOfIncorporation string
	FiscalYearEnd        string // MMDD
	FormType             string // FILING VALUES: FORM TYPE
	FileNumber           string // FILING VALUES: SEC FILE NUMBER
	FilmNumber           string
	FormerNames          []FormerName
	// Fields holds every "SUBSECTION/KEY" pair of the block, e.g.
	// "BUSINESS ADDRESS/CITY" -> ["HOUSTON"].
	Fields map[string][]string
}

// FormerName is a FORMER COMPANY entry of a party.
type FormerName struct {
	Name    string
	Changed string // DATE OF NAME CHANGE, YYYYMMDD as written
}

// Document is one <DOCUMENT> of a submission.
type Document struct {
	Type        string
	Sequence    int
	Filename    string // absent in old (pre-2000s) filings
	Description string
	// Body is the bytes between <TEXT> and </TEXT>, without the line breaks
	// that follow <TEXT> and precede </TEXT>. For uuencoded parts it is the
	// uuencoded text as filed ("begin 644 name" ... "end").
	Body      []byte
	Uuencoded bool
}

// Filer returns the first party with role FILER, else FILED BY, else the
// first party; ok is false when the header names no party.
func (s *Submission) Filer() (Party, bool) {
	for _, role := range []string{"FILER", "FILED BY", "REPORTING-OWNER"} {
		for _, p := range s.Parties {
			if p.Role == role {
				return p, true
			}
		}
	}
	if len(s.Parties) > 0 {
		return s.Parties[0], true
	}
	return Party{}, false
}

// ParseSGML reads a full-text EDGAR submission. It needs the whole input in
// memory (documents are returned as sub-slices of it).
func ParseSGML(r io.Reader) (*Submission, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read submission: %w", err)
	}
	hs := indexTag(data, "<SEC-HEADER>", 0)
	if hs < 0 {
		hs = indexTag(data, "<IMS-HEADER>", 0)
	}
	if hs < 0 {
		return nil, ErrNoHeader
	}
	he := bytes.Index(data[hs:], []byte("</SEC-HEADER>"))
	if he < 0 {
		he = bytes.Index(data[hs:], []byte("</IMS-HEADER>"))
	}
	if he < 0 {
		return nil, fmt.Errorf("%w: header not closed", ErrNoHeader)
	}
	s := &Submission{Header: map[string][]string{}}
	if err := s.parseHeader(data[hs : hs+he]); err != nil {
		return nil, err
	}
	docs, err := parseDocuments(data[hs+he:])
	if err != nil {
		return nil, err
	}
	s.Documents = docs
	return s, nil
}

func indexTag(data []byte, tag string, from int) int {
	i := bytes.Index(data[from:], []byte(tag))
	if i < 0 {
		return -1
	}
	return from + i
}

func (s *Submission) parseHeader(h []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(h))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var (
		party *Party
		sub   string // current subsection inside a party ("COMPANY DATA", ...)
	)
	first := true
	for sc.Scan() {
		raw := strings.TrimRight(sc.Text(), " \t\r")
		if first { // the <SEC-HEADER>... line itself
			first = false
			continue
		}
		if raw == "" {
			continue
		}
		indent := len(raw) - len(strings.TrimLeft(raw, "\t "))
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "<") {
			// <ACCEPTANCE-DATETIME>20250110171538 style.
			end := strings.IndexByte(line, '>')
			if end < 0 || strings.HasPrefix(line, "</") {
				continue
			}
			tag, val := line[1:end], strings.TrimSpace(line[end+1:])
			s.Header[tag] = append(s.Header[tag], val)
			if tag == "ACCEPTANCE-DATETIME" {
				t, err := parseAcceptance(val)
				if err != nil {
					return err
				}
				s.Accepted = t
			}
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		key, val := strings.TrimSpace(line[:colon]), strings.TrimSpace(line[colon+1:])
		if indent == 0 {
			if val == "" { // a party block begins
				s.Parties = append(s.Parties, Party{Role: key, Fields: map[string][]string{}})
				party, sub = &s.Parties[len(s.Parties)-1], ""
				continue
			}
			party = nil
			s.Header[key] = append(s.Header[key], val)
			if err := s.setTop(key, val); err != nil {
				return err
			}
			continue
		}
		if party == nil {
			continue
		}
		if val == "" {
			sub = key
			if sub == "FORMER COMPANY" {
				party.FormerNames = append(party.FormerNames, FormerName{})
			}
			continue
		}
		party.Fields[sub+"/"+key] = append(party.Fields[sub+"/"+key], val)
		party.set(key, val)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("scan header: %w", err)
	}
	if s.AccessionNumber == "" {
		return fmt.Errorf("%w: no ACCESSION NUMBER", ErrNoHeader)
	}
	return nil
}

// partyFields are the party keys kept in a field of their own: the first
// name and CIK of a block win, for the other keys the last value does.
var partyFields = map[string]struct {
	field     func(*Party) *string
	firstWins bool
}{
	"COMPANY CONFORMED NAME":             {func(p *Party) *string { return &p.Name }, true},
	"CENTRAL INDEX KEY":                  {func(p *Party) *string { return &p.CIK }, true},
	"STANDARD INDUSTRIAL CLASSIFICATION": {func(p *Party) *string { return &p.SIC }, false},
	"STATE OF INCORPORATION":             {func(p *Party) *string { return &p.StateOfIncorporation }, false},
	"FISCAL YEAR END":                    {func(p *Party) *string { return &p.FiscalYearEnd }, false},
	"FORM TYPE":                          {func(p *Party) *string { return &p.FormType }, false},
	"SEC FILE NUMBER":                    {func(p *Party) *string { return &p.FileNumber }, false},
	"FILM NUMBER":                        {func(p *Party) *string { return &p.FilmNumber }, false},
}

// set keeps one key of the party's block in its field, if it has one: a
// FORMER COMPANY entry's keys go to the last FormerName.
func (p *Party) set(key, val string) {
	if f, ok := partyFields[key]; ok {
		if dst := f.field(p); !f.firstWins || *dst == "" {
			*dst = val
		}
		return
	}
	n := len(p.FormerNames)
	if n == 0 {
		return
	}
	switch key {
	case "FORMER CONFORMED NAME":
		p.FormerNames[n-1].Name = val
	case "DATE OF NAME CHANGE":
		p.FormerNames[n-1].Changed = val
	}
}

func (s *Submission) setTop(key, val string) error {
	var err error
	switch key {
	case "ACCESSION NUMBER":
		s.AccessionNumber = val
	case "CONFORMED SUBMISSION TYPE":
		s.Type = val
	case "PUBLIC DOCUMENT COUNT":
		s.PublicDocumentCount, err = strconv.Atoi(val)
	case "CONFORMED PERIOD OF REPORT":
		s.PeriodOfReport, err = parseYMD(val)
	case "FILED AS OF DATE":
		s.FiledAsOf, err = parseYMD(val)
	case "DATE AS OF CHANGE":
		s.DateOfChange, err = parseYMD(val)
	case "ITEM INFORMATION":
		s.Items = append(s.Items, val)
	case "GROUP MEMBERS":
		s.GroupMembers = append(s.GroupMembers, val)
	}
	if err != nil {
		return fmt.Errorf("header %s %q: %w", key, val, err)
	}
	return nil
}

func parseYMD(v string) (time.Time, error) { return time.Parse("20060102", v) }

var newYork = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil { // tzdata is embedded (doc.go imports time/tzdata), so this is a bug
		panic(err)
	}
	return loc
}()

func parseAcceptance(v string) (time.Time, error) {
	t, err := time.ParseInLocation("20060102150405", v, newYork)
	if err != nil {
		return time.Time{}, fmt.Errorf("ACCEPTANCE-DATETIME %q: %w", v, err)
	}
	return t, nil
}

func parseDocuments(data []byte) ([]Document, error) {
	var docs []Document
	pos := 0
	for {
		ds := indexTag(data, "<DOCUMENT>", pos)
		if ds < 0 {
			return docs, nil
		}
		de := indexTag(data, "</DOCUMENT>", ds)
		if de < 0 {
			return nil, fmt.Errorf("document %d: no </DOCUMENT>", len(docs)+1)
		}
		d, err := parseDocument(data[ds+len("<DOCUMENT>") : de])
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs)+1, err)
		}
		docs = append(docs, d)
		pos = de + len("</DOCUMENT>")
	}
}

func parseDocument(b []byte) (Document, error) {
	var d Document
	ts := bytes.Index(b, []byte("<TEXT>"))
	if ts < 0 {
		return d, errors.New("no <TEXT>")
	}
	te := bytes.LastIndex(b, []byte("</TEXT>"))
	if te < ts {
		return d, errors.New("no </TEXT>")
	}
	for _, line := range strings.Split(string(b[:ts]), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "<") {
			continue
		}
		end := strings.IndexByte(line, '>')
		if end < 0 {
			continue
		}
		tag, val := line[1:end], strings.TrimSpace(line[end+1:])
		switch tag {
		case "TYPE":
			d.Type = val
		case "SEQUENCE":
			n, err := strconv.Atoi(val)
			if err != nil {
				return d, fmt.Errorf("SEQUENCE %q: %w", val, err)
			}
			d.Sequence = n
		case "FILENAME":
			d.Filename = val
		case "DESCRIPTION":
			d.Description = val
		}
	}
	body := b[ts+len("<TEXT>") : te]
	body = bytes.TrimPrefix(body, []byte("\r"))
	body = bytes.TrimPrefix(body, []byte("\n"))
	body = bytes.TrimSuffix(body, []byte("\n"))
	body = bytes.TrimSuffix(body, []byte("\r"))
	d.Body = body
	d.Uuencoded = bytes.HasPrefix(body, []byte("begin ")) && len(body) > 9 &&
		body[6] >= '0' && body[6] <= '7'
	return d, nil
}

// Decode returns the decoded bytes of a uuencoded document. It is an error
// to call it on a document that is not uuencoded.
func (d *Document) Decode() ([]byte, error) {
	if !d.Uuencoded {
		return nil, errors.New("document is not uuencoded")
	}
	lines := bytes.Split(d.Body, []byte("\n"))
	out := make([]byte, 0, len(d.Body)*3/4)
	for _, line := range lines[1:] {
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		if string(line) == "end" {
			return out, nil
		}
		n := int((line[0] - ' ') & 63)
		if n == 0 {
			continue
		}
		// Encoders may strip trailing spaces (zero sextets): missing
		// characters decode as zero.
		chars := line[1:]
		var buf [3]byte
		got := 0
		for j := 0; got < n; j += 4 {
			var q [4]byte
			for k := 0; k < 4; k++ {
				if j+k < len(chars) {
					q[k] = (chars[j+k] - ' ') & 63
				}
			}
			buf[0] = q[0]<<2 | q[1]>>4
			buf[1] = q[1]<<4 | q[2]>>2
			buf[2] = q[2]<<6 | q[3]
			take := min(3, n-got)
			out = append(out, buf[:take]...)
			got += take
		}
	}
	return nil, errors.New("uuencoded body has no end line")
}
