package source

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// IndexEntry is one filing listed by an EDGAR index file.
type IndexEntry struct {
	CIK     uint64
	Company string
	Form    string
	Filed   string // YYYY-MM-DD
	File    string // as listed, e.g. edgar/data/1806014/0001140361-20-006155.txt
}

// path is the archive path of the entry relative to the site root: the
// daily and full indexes list "edgar/data/...", served under "Archives/".
func (e IndexEntry) path() string {
	if strings.HasPrefix(e.File, "edgar/") {
		return "Archives/" + e.File
	}
	return e.File
}

type indexLayout uint8

const (
	layoutFormFirst    indexLayout = iota + 1 // form.idx: Form Type, Company Name, CIK, Date Filed, File Name
	layoutCompanyFirst                        // company.idx: Company Name, Form Type, CIK, Date Filed, File Name
	layoutPipe                                // master.idx, xbrl.idx: CIK|Company Name|Form Type|Date Filed|Filename
)

var errNoRule = errors.New("no column header followed by a rule of dashes")

// ParseIndex reads an EDGAR index: a free-text preamble, a column header,
// a rule of dashes, then one filing per line. The layout is told by the
// column header. Lines that cannot be read are counted in bad (the first
// reason in firstBad) and left out; only a missing header is an error.
func ParseIndex(data []byte) (entries []IndexEntry, bad int, firstBad error, err error) {
	layout, split := indexLayout(0), 0
	lineNo := 0
	body := false
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lineNo++
		s := strings.TrimRight(string(line), " \t\r")
		if !body {
			switch {
			case strings.HasPrefix(s, "CIK|"):
				layout = layoutPipe
			case strings.Contains(s, "Form Type") && strings.Contains(s, "Company Name"):
				f, c := strings.Index(s, "Form Type"), strings.Index(s, "Company Name")
				if f < c {
					layout, split = layoutFormFirst, c
				} else {
					layout, split = layoutCompanyFirst, f
				}
			case layout != 0 && len(s) >= 10 && strings.Trim(s, "-") == "":
				body = true
			}
			continue
		}
		if s == "" {
			continue
		}
		e, lerr := parseIndexLine(s, layout, split)
		if lerr != nil {
			bad++
			if firstBad == nil {
				firstBad = fmt.Errorf("line %d: %w", lineNo, lerr)
			}
			continue
		}
		entries = append(entries, e)
	}
	if !body {
		return nil, 0, nil, errNoRule
	}
	return entries, bad, firstBad, nil
}

// parseIndexLine reads one body line (trailing blanks removed). The three
// right-hand columns (CIK, date, file name) never contain blanks, so in the
// fixed-width layouts they are the last three fields; the two left-hand
// columns are split at the column where the header puts the second one, or,
// when a value overflows its column, at the first (form first) or last
// (company first) run of two blanks.
func parseIndexLine(s string, layout indexLayout, split int) (IndexEntry, error) {
	var e IndexEntry
	var cik, date, left string
	if layout == layoutPipe {
		f := strings.Split(s, "|")
		if len(f) < 5 {
			return e, fmt.Errorf("%d fields, want 5", len(f))
		}
		n := len(f)
		cik, date, e.File = f[0], f[n-2], f[n-1]
		e.Company, e.Form = strings.Join(f[1:n-3], "|"), f[n-3]
	} else {
		rest := s
		var right [3]string // file, date, cik
		for i := range right {
			rest = strings.TrimRight(rest, " \t")
			j := strings.LastIndexAny(rest, " \t")
			if j < 0 {
				return e, errors.New("too few columns")
			}
			right[i], rest = rest[j+1:], rest[:j]
		}
		e.File, date, cik = right[0], right[1], right[2]
		left = strings.TrimRight(rest, " \t")
		var a, b string
		switch {
		case split > 0 && split < len(left) && left[split-1] == ' ':
			a, b = left[:split], left[split:]
		case layout == layoutFormFirst && strings.Contains(left, "  "):
			i := strings.Index(left, "  ")
			a, b = left[:i], left[i:]
		case layout == layoutCompanyFirst && strings.Contains(left, "  "):
			i := strings.LastIndex(left, "  ")
			a, b = left[:i], left[i:]
		default:
			return e, errors.New("cannot split form type from company name")
		}
		if layout == layoutFormFirst {
			e.Form, e.Company = a, b
		} else {
			e.Company, e.Form = a, b
		}
	}
	e.Form = strings.TrimSpace(e.Form)
	e.Company = strings.TrimSpace(e.Company)
	if e.Form == "" || !printable(e.Form) {
		return e, fmt.Errorf("bad form type %q", e.Form)
	}
	n, ok := parseCIK(strings.TrimSpace(cik))
	if !ok {
		return e, fmt.Errorf("bad CIK %q", cik)
	}
	e.CIK = n
	var err error
	if e.Filed, err = normDate(strings.TrimSpace(date)); err != nil {
		return e, err
	}
	e.File = strings.TrimSpace(e.File)
	if !validPath(e.File) {
		return e, fmt.Errorf("bad file name %q", e.File)
	}
	return e, nil
}

// normDate accepts YYYYMMDD (daily indexes) or YYYY-MM-DD (full indexes).
func normDate(s string) (string, error) {
	if len(s) == 8 {
		if t, err := time.Parse("20060102", s); err == nil {
			return t.Format(time.DateOnly), nil
		}
	} else if t, err := time.Parse(time.DateOnly, s); err == nil && len(s) == 10 {
		return t.Format(time.DateOnly), nil
	}
	return "", fmt.Errorf("bad date %q", s)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// validPath accepts a relative slash path of [A-Za-z0-9._-] segments with
// no empty, "." or ".." segment: index entries and configured index paths
// are joined to the base URL, so they must not be able to leave it or carry
// a query.
func validPath(p string) bool {
	if p == "" || len(p) > 1024 {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}
