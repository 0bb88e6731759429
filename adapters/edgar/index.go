package edgar

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
)

// IndexEntry is one line of an EDGAR daily or full index file
// (form.YYYYMMDD.idx, company.YYYYMMDD.idx).
type IndexEntry struct {
	FormType    string
	CompanyName string
	CIK         string // zero-padded to 10 digits
	DateFiled   time.Time
	FileName    string // e.g. edgar/data/1806014/0001140361-20-006155.txt
}

// Accession returns the accession number named by FileName, or "" if the
// file name is not of the form .../NNNNNNNNNN-YY-NNNNNN.txt.
func (e IndexEntry) Accession() string {
	b := path.Base(e.FileName)
	a, ok := strings.CutSuffix(b, ".txt")
	if !ok || len(a) != 20 || a[10] != '-' || a[13] != '-' {
		return ""
	}
	return a
}

// ParseFormIndex reads a form-type-sorted index (columns: Form Type,
// Company Name, CIK, Date Filed, File Name).
func ParseFormIndex(r io.Reader) ([]IndexEntry, error) { return parseIndex(r, true) }

// ParseCompanyIndex reads a company-sorted index (columns: Company Name,
// Form Type, CIK, Date Filed, File Name).
func ParseCompanyIndex(r io.Reader) ([]IndexEntry, error) { return parseIndex(r, false) }

// parseIndex reads the fixed-width body after the dashed rule. The three
// right-hand columns (CIK, date, file name) never contain spaces, so they
// are taken as the last three fields; the two left columns are split at the
// column where the header puts the second one (defaults 12 and 62), or at
// the last run of two or more spaces if a value overflows its column.
func parseIndex(r io.Reader, formFirst bool) ([]IndexEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	split := 62
	second := "Form Type"
	if formFirst {
		split, second = 12, "Company Name"
	}
	var out []IndexEntry
	body := false
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if !body {
			if i := strings.Index(line, second); i > 0 {
				split = i
			}
			if len(line) >= 10 && strings.Trim(line, "-") == "" {
				body = true
			}
			continue
		}
		if line == "" {
			continue
		}
		e, err := parseIndexLine(line, split, formFirst)
		if err != nil {
			return nil, fmt.Errorf("index line %d: %w", lineNo, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read index: %w", err)
	}
	if !body {
		return nil, fmt.Errorf("index: no dashed header rule")
	}
	return out, nil
}

func parseIndexLine(line string, split int, formFirst bool) (IndexEntry, error) {
	var e IndexEntry
	rest := line
	var right [3]string // file, date, cik
	for i := range right {
		rest = strings.TrimRight(rest, " \t")
		j := strings.LastIndexAny(rest, " \t")
		if j < 0 {
			return e, fmt.Errorf("too few columns in %q", line)
		}
		right[i], rest = rest[j+1:], rest[:j]
	}
	e.FileName = right[0]
	var err error
	if e.DateFiled, err = time.Parse("20060102", right[1]); err != nil {
		if e.DateFiled, err = time.Parse(time.DateOnly, right[1]); err != nil {
			return e, fmt.Errorf("bad date %q", right[1])
		}
	}
	n, err := strconv.ParseUint(right[2], 10, 64)
	if err != nil || n > 9999999999 {
		return e, fmt.Errorf("bad CIK %q", right[2])
	}
	e.CIK = fmt.Sprintf("%010d", n)
	rest = strings.TrimRight(rest, " \t")
	var a, b string
	if split < len(rest) && (rest[split-1] == ' ' || rest[split] == ' ') {
		a, b = rest[:split], rest[split:]
	} else if i := strings.LastIndex(rest, "  "); i >= 0 {
		a, b = rest[:i], rest[i:]
	} else {
		return e, fmt.Errorf("cannot split %q into form type and company name", rest)
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" || b == "" {
		return e, fmt.Errorf("empty form type or company name in %q", line)
	}
	if formFirst {
		e.FormType, e.CompanyName = a, b
	} else {
		e.CompanyName, e.FormType = a, b
	}
	return e, nil
}
