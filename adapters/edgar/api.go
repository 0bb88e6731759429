package edgar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// CompanyFacts is the answer of the XBRL companyfacts API
// (https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json).
type CompanyFacts struct {
	CIK        string // 10 digits, zero-padded
	EntityName string
	// Concepts by taxonomy ("us-gaap", "dei", "ifrs-full") and concept name.
	Concepts map[string]map[string]*Concept
	// Issues are the values refused (a number longer than MaxNumberLen):
	// Concept is "taxonomy:name", ID "unit #index".
	Issues []Issue
}

// Concept is one concept of the companyfacts answer.
type Concept struct {
	Taxonomy, Name     string
	Label, Description string
	Units              map[string][]CompanyFact // by unit: "USD", "shares", "USD/shares"
}

// CompanyFact is one reported value of a concept.
type CompanyFact struct {
	Start, End time.Time // Start is zero for instants
	Val        decimal.Decimal
	Accn       string // accession number of the filing that reported it
	FY         int    // fiscal year of the filing
	FP         string // fiscal period of the filing: FY, Q1..Q4
	Form       string
	Filed      time.Time
	Frame      string // e.g. "CY2023Q4I"; empty when the fact is not the frame's pick
}

type rawCompanyFacts struct {
	CIK        json.RawMessage `json:"cik"`
	EntityName string          `json:"entityName"`
	Facts      map[string]map[string]struct {
		Label       string `json:"label"`
		Description string `json:"description"`
		Units       map[string][]struct {
			Start string      `json:"start"`
			End   string      `json:"end"`
			Val   json.Number `json:"val"`
			Accn  string      `json:"accn"`
			FY    json.Number `json:"fy"`
			FP    string      `json:"fp"`
			Form  string      `json:"form"`
			Filed string      `json:"filed"`
			Frame string      `json:"frame"`
		} `json:"units"`
	} `json:"facts"`
}

// ParseCompanyFacts reads a companyfacts JSON answer. Values are decoded
// exactly from their JSON text (never via float64).
func ParseCompanyFacts(r io.Reader) (*CompanyFacts, error) {
	var raw rawCompanyFacts
	cik, err := decodeAnswer(r, "companyfacts", &raw, &raw.CIK)
	if err != nil {
		return nil, err
	}
	cf := &CompanyFacts{CIK: cik, EntityName: raw.EntityName, Concepts: map[string]map[string]*Concept{}}
	for tax, concepts := range raw.Facts {
		m := map[string]*Concept{}
		cf.Concepts[tax] = m
		for name, rc := range concepts {
			c := &Concept{Taxonomy: tax, Name: name, Label: rc.Label, Description: rc.Description, Units: map[string][]CompanyFact{}}
			for unit, rfs := range rc.Units {
				facts := make([]CompanyFact, 0, len(rfs))
				for i, rf := range rfs {
					f := CompanyFact{Accn: rf.Accn, FP: rf.FP, Form: rf.Form, Frame: rf.Frame}
					where := func(e error) error {
						return fmt.Errorf("companyfacts %s:%s %s #%d: %w", tax, name, unit, i, e)
					}
					if f.Val, err = parseDecimal(string(rf.Val)); errors.Is(err, ErrNumberTooLong) {
						cf.Issues = append(cf.Issues, Issue{tax + ":" + name, fmt.Sprintf("%s #%d", unit, i), err.Error()})
						continue
					} else if err != nil {
						return nil, where(err)
					}
					if rf.FY != "" {
						if f.FY, err = strconv.Atoi(string(rf.FY)); err != nil {
							return nil, where(err)
						}
					}
					if f.End, err = optDate(rf.End); err == nil {
						if f.Start, err = optDate(rf.Start); err == nil {
							f.Filed, err = optDate(rf.Filed)
						}
					}
					if err != nil {
						return nil, where(err)
					}
					facts = append(facts, f)
				}
				c.Units[unit] = facts
			}
			m[name] = c
		}
	}
	return cf, nil
}

// Facts returns the values of concept ("us-gaap:Revenues", or "Revenues"
// searched in every taxonomy) in unit ("USD"), in the order of the answer.
func (cf *CompanyFacts) Facts(concept, unit string) []CompanyFact {
	tax, name, ok := strings.Cut(concept, ":")
	if !ok {
		name = concept
	}
	var out []CompanyFact
	for t, m := range cf.Concepts {
		if ok && t != tax {
			continue
		}
		if c := m[name]; c != nil {
			out = append(out, c.Units[unit]...)
		}
	}
	return out
}

func optDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// decodeAnswer decodes a data.sec.gov JSON answer (what names it in errors)
// into raw, numbers kept as their text, and returns the CIK that decoding
// put in *cik.
func decodeAnswer(r io.Reader, what string, raw any, cik *json.RawMessage) (string, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(raw); err != nil {
		return "", fmt.Errorf("decode %s: %w", what, err)
	}
	n, err := parseCIK(*cik)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}

// parseCIK accepts a CIK written as a JSON string or number and returns it
// zero-padded to 10 digits.
func parseCIK(raw json.RawMessage) (string, error) {
	s := string(bytes.Trim(bytes.TrimSpace(raw), `"`))
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > 9999999999 {
		return "", fmt.Errorf("bad cik %s", raw)
	}
	return fmt.Sprintf("%010d", n), nil
}

// Submissions is the answer of the submissions API
// (https://data.sec.gov/submissions/CIK##########.json): the company and its
// most recent filings (at least one year or 1,000 filings; older ones are in
// the files listed in Files).
type Submissions struct {
	CIK           string // 10 digits
	Name          string
	EntityType    string
	SIC           string
	Tickers       []string
	Exchanges     []string
	FiscalYearEnd string // MMDD
	StateOfIncorp string
	Recent        []Filing
	Files         []string // names of the JSON files with older filings
}

// Filing is one row of filings.recent.
type Filing struct {
	AccessionNumber  string
	Form             string
	FilingDate       time.Time
	ReportDate       time.Time // zero when empty
	Accepted         time.Time // acceptanceDateTime, UTC
	PrimaryDocument  string
	PrimaryDocDesc   string
	Items            string
	Size             int64
	XBRL, InlineXBRL bool
}

type rawSubmissions struct {
	CIK                  json.RawMessage `json:"cik"`
	Name                 string          `json:"name"`
	EntityType           string          `json:"entityType"`
	SIC                  string          `json:"sic"`
	Tickers              []string        `json:"tickers"`
	Exchanges            []string        `json:"exchanges"`
	FiscalYearEnd        string          `json:"fiscalYearEnd"`
	StateOfIncorporation string          `json:"stateOfIncorporation"`
	Filings              struct {
		Recent struct {
			AccessionNumber    []string      `json:"accessionNumber"`
			FilingDate         []string      `json:"filingDate"`
			ReportDate         []string      `json:"reportDate"`
			AcceptanceDateTime []string      `json:"acceptanceDateTime"`
			Form               []string      `json:"form"`
			Items              []string      `json:"items"`
			Size               []json.Number `json:"size"`
			IsXBRL             []json.Number `json:"isXBRL"`
			IsInlineXBRL       []json.Number `json:"isInlineXBRL"`
			PrimaryDocument    []string      `json:"primaryDocument"`
			PrimaryDocDesc     []string      `json:"primaryDocDescription"`
		} `json:"recent"`
		Files []struct {
			Name string `json:"name"`
		} `json:"files"`
	} `json:"filings"`
}

// ParseSubmissions reads a submissions JSON answer. The column arrays of
// filings.recent must have equal lengths.
func ParseSubmissions(r io.Reader) (*Submissions, error) {
	var raw rawSubmissions
	cik, err := decodeAnswer(r, "submissions", &raw, &raw.CIK)
	if err != nil {
		return nil, err
	}
	s := &Submissions{CIK: cik, Name: raw.Name, EntityType: raw.EntityType, SIC: raw.SIC, Tickers: raw.Tickers,
		Exchanges: raw.Exchanges, FiscalYearEnd: raw.FiscalYearEnd, StateOfIncorp: raw.StateOfIncorporation}
	for _, f := range raw.Filings.Files {
		s.Files = append(s.Files, f.Name)
	}
	rc := raw.Filings.Recent
	n := len(rc.AccessionNumber)
	for name, l := range map[string]int{"form": len(rc.Form), "filingDate": len(rc.FilingDate),
		"reportDate": len(rc.ReportDate), "primaryDocument": len(rc.PrimaryDocument)} {
		if l != n {
			return nil, fmt.Errorf("submissions: filings.recent.%s has %d rows, accessionNumber %d", name, l, n)
		}
	}
	at := func(col []string, i int) string {
		if i < len(col) {
			return col[i]
		}
		return ""
	}
	flag := func(col []json.Number, i int) bool { return i < len(col) && col[i] == "1" }
	s.Recent = make([]Filing, n)
	for i := range n {
		f := Filing{AccessionNumber: rc.AccessionNumber[i], Form: rc.Form[i], PrimaryDocument: rc.PrimaryDocument[i],
			PrimaryDocDesc: at(rc.PrimaryDocDesc, i), Items: at(rc.Items, i),
			XBRL: flag(rc.IsXBRL, i), InlineXBRL: flag(rc.IsInlineXBRL, i)}
		if f.FilingDate, err = time.Parse(time.DateOnly, rc.FilingDate[i]); err == nil {
			if f.ReportDate, err = optDate(rc.ReportDate[i]); err == nil {
				if a := at(rc.AcceptanceDateTime, i); a != "" {
					f.Accepted, err = time.Parse(time.RFC3339, a)
				}
			}
		}
		if err == nil && i < len(rc.Size) {
			f.Size, err = strconv.ParseInt(string(rc.Size[i]), 10, 64)
		}
		if err != nil {
			return nil, fmt.Errorf("submissions: filing %d (%s): %w", i, f.AccessionNumber, err)
		}
		s.Recent[i] = f
	}
	return s, nil
}
