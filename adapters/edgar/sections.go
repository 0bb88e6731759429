package edgar

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Section is one Item of a 10-K or 10-Q as filed.
type Section struct {
	Part   string // "I", "II", "III", "IV"; "" if no PART heading precedes the item
	Item   string // "1", "1A", "7", "7A", ... (upper case)
	Title  string // heading text after the item label, e.g. "Risk Factors"
	Text   string // plain text after the heading up to the next item heading
	Offset int    // byte offset of the heading text in the HTML
}

// ErrNoSections is returned by Sections when the document has no item
// headings outside tables.
var ErrNoSections = errors.New("edgar: no item headings found")

// ErrSectionMissing is wrapped by MissingError.
var ErrSectionMissing = errors.New("edgar: section missing")

// MissingError lists the sections a caller required that the document does
// not have.
type MissingError struct{ Missing []string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("%v: %s", ErrSectionMissing, strings.Join(e.Missing, ", "))
}

func (e *MissingError) Unwrap() error { return ErrSectionMissing }

// Find returns the section with the given item ("1A") in the given part
// ("II"; "" matches any part).
func Find(secs []Section, part, item string) (Section, bool) {
	for _, s := range secs {
		if s.Item == item && (part == "" || s.Part == part) {
			return s, true
		}
	}
	return Section{}, false
}

// Require checks that every wanted section is present. A want is an item
// ("1A") or a part and an item ("II/1A"). The error is a *MissingError.
func Require(secs []Section, wants ...string) error {
	var missing []string
	for _, w := range wants {
		part, item, ok := strings.Cut(w, "/")
		if !ok {
			part, item = "", w
		}
		if _, found := Find(secs, part, item); !found {
			missing = append(missing, w)
		}
	}
	if missing != nil {
		return &MissingError{Missing: missing}
	}
	return nil
}

// MDA returns Management's Discussion and Analysis: Item 7 of a 10-K, or
// Part I Item 2 of a 10-Q (a document with an Item 7 is read as a 10-K).
func MDA(secs []Section) (Section, error) {
	if s, ok := Find(secs, "", "7"); ok {
		return s, nil
	}
	if s, ok := Find(secs, "I", "2"); ok && strings.Contains(strings.ToLower(s.Title), "discussion") {
		return s, nil
	}
	return Section{}, &MissingError{Missing: []string{"MD&A (10-K Item 7 / 10-Q Part I Item 2)"}}
}

// RiskFactors returns Item 1A of a 10-K (Part I) or of a 10-Q (Part II).
func RiskFactors(secs []Section) (Section, error) {
	for _, s := range secs {
		if s.Item == "1A" && (s.Part != "II" || !hasItem7(secs)) {
			return s, nil
		}
	}
	return Section{}, &MissingError{Missing: []string{"Risk Factors (Item 1A)"}}
}

func hasItem7(secs []Section) bool { _, ok := Find(secs, "", "7"); return ok }

var (
	itemRe = regexp.MustCompile(`(?i)^item\s*(\d{1,2}[a-d]?)(?:\s*[.:\-\x{2013}\x{2014}]\s*|\s+|$)(.*)$`)
	partRe = regexp.MustCompile(`(?i)^part\s+(iv|i{1,3})\b`)
)

const (
	maxHeadingLen = 250 // a heading block longer than this is body text
	maxTitleLen   = 150 // a following block used as the title
)

// Sections splits the HTML of a 10-K or 10-Q into its items.
//
// Rule: the HTML is reduced to text blocks (p, div, tr, li, headings, br).
// A heading is a block outside any <table> of at most 250 characters that
// starts "Item N[A-D]" followed by punctuation, white space or the end, and
// whose title (the rest) does not start with a lower-case letter ("Item 7
// of this report" is a cross-reference). Blocks starting "PART I..IV" set
// the part of the items that follow. Tables of contents are skipped twice
// over: headings inside tables are ignored, and when the same part and item
// heading occurs more than once the LAST occurrence is used. A section's
// text runs from its heading to the next chosen heading (the last section
// runs to the end of the document, signatures and exhibit index included).
// Running page headers and footers (short blocks with a digit that repeat
// at least 5 times once digits are masked) and PART headings are left out
// of section text.
func Sections(doc []byte) ([]Section, error) {
	blocks := htmlBlocks(doc)
	type cand struct {
		Section
		block int
	}
	byKey := map[string]cand{}
	skip := runningLines(blocks) // page headers/footers and PART headings are not section text
	part := ""
	for i, b := range blocks {
		if b.inTable || len(b.text) > maxHeadingLen {
			continue
		}
		if m := partRe.FindStringSubmatch(b.text); m != nil && len(b.text) <= 100 {
			part = strings.ToUpper(m[1])
			skip[i] = true
			continue
		}
		m := itemRe.FindStringSubmatch(b.text)
		if m == nil {
			continue
		}
		title := strings.TrimSpace(m[2])
		if r, _ := utf8.DecodeRuneInString(title); unicode.IsLower(r) {
			continue
		}
		if title == "" && i+1 < len(blocks) {
			next := blocks[i+1].text
			if len(next) <= maxTitleLen && !itemRe.MatchString(next) && !partRe.MatchString(next) {
				title = next
			}
		}
		s := Section{Part: part, Item: strings.ToUpper(m[1]), Title: title, Offset: b.off}
		byKey[s.Part+"/"+s.Item] = cand{s, i}
	}
	if len(byKey) == 0 {
		return nil, ErrNoSections
	}
	cands := make([]cand, 0, len(byKey))
	for _, c := range byKey {
		cands = append(cands, c)
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].block < cands[j].block })
	out := make([]Section, len(cands))
	for i, c := range cands {
		end := len(blocks)
		if i+1 < len(cands) {
			end = cands[i+1].block
		}
		start := c.block + 1
		if c.Title != "" && start < end && blocks[start].text == c.Title && !strings.HasSuffix(blocks[c.block].text, c.Title) {
			start++ // the title was a block of its own
		}
		var sb strings.Builder
		for k := start; k < end; k++ {
			if skip[k] {
				continue
			}
			b := blocks[k]
			if sb.Len() > 0 {
				sb.WriteByte('\n')
			}
			sb.WriteString(b.text)
		}
		c.Text = sb.String()
		out[i] = c.Section
	}
	return out, nil
}

// runningLines marks page headers and footers: blocks outside tables of at
// most 100 characters that contain a digit and occur at least 5 times once
// digits are masked ("Apple Inc. | 2024 Form 10-K | 18").
func runningLines(blocks []textBlock) map[int]bool {
	norm := make([]string, len(blocks))
	count := map[string]int{}
	for i, b := range blocks {
		if b.inTable || len(b.text) > 100 || !strings.ContainsAny(b.text, "0123456789") {
			continue
		}
		norm[i] = strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '#'
			}
			return r
		}, b.text)
		count[norm[i]]++
	}
	skip := map[int]bool{}
	for i, n := range norm {
		if n != "" && count[n] >= 5 {
			skip[i] = true
		}
	}
	return skip
}

type textBlock struct {
	text    string
	inTable bool
	off     int
}

var blockTags = map[string]bool{
	"p": true, "div": true, "br": true, "tr": true, "li": true, "ul": true, "ol": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "table": true,
	"hr": true, "section": true, "body": true, "title": true, "center": true, "blockquote": true,
	"page": true, "pre": true,
}

// htmlBlocks reduces HTML to text blocks: tags stripped, entities decoded,
// white space (including no-break spaces) collapsed. Script, style and the
// hidden ix:header are dropped.
func htmlBlocks(doc []byte) []textBlock {
	var (
		out    []textBlock
		buf    []byte
		bufOff = -1
		bufTab bool
		tables int
	)
	flush := func() {
		if bufOff >= 0 {
			if t := collapseSpace(html.UnescapeString(string(buf))); t != "" {
				out = append(out, textBlock{text: t, inTable: bufTab, off: bufOff})
			}
		}
		buf, bufOff = buf[:0], -1
	}
	i := 0
	for i < len(doc) {
		if doc[i] != '<' {
			j := bytes.IndexByte(doc[i:], '<')
			if j < 0 {
				j = len(doc) - i
			}
			if bufOff < 0 {
				bufOff, bufTab = i, tables > 0
			}
			buf = append(buf, doc[i:i+j]...)
			i += j
			continue
		}
		rest := doc[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skipPast(doc, i+4, "-->")
			continue
		case len(rest) > 1 && (rest[1] == '!' || rest[1] == '?'):
			i = skipPast(doc, i+2, ">")
			continue
		}
		name, closing, end := scanTag(doc, i)
		i = end
		switch name {
		case "":
			// Not a tag ("a < b"): keep the text.
			if bufOff < 0 {
				bufOff, bufTab = end-1, tables > 0
			}
			buf = append(buf, '<')
		case "script", "style", "ix:header":
			if !closing {
				i = skipPastFold(doc, i, "</"+name)
				i = skipPast(doc, i, ">")
			}
		case "table":
			flush()
			if closing {
				tables = max(0, tables-1)
			} else {
				tables++
			}
		case "td", "th":
			buf = append(buf, ' ')
		default:
			if blockTags[name] {
				flush()
			}
		}
	}
	flush()
	return out
}

// scanTag reads the tag starting at doc[i] == '<' and returns its lower-case
// name, whether it is a closing tag, and the offset after its '>'. Quoted
// attribute values may contain '>'. name is "" if this is not a tag.
func scanTag(doc []byte, i int) (name string, closing bool, end int) {
	j := i + 1
	if j < len(doc) && doc[j] == '/' {
		closing = true
		j++
	}
	k := j
	for k < len(doc) && (doc[k] == ':' || doc[k] == '-' || doc[k] == '_' || doc[k] < utf8.RuneSelf && (unicode.IsLetter(rune(doc[k])) || unicode.IsDigit(rune(doc[k])))) {
		k++
	}
	if k == j {
		return "", false, i + 1
	}
	name = strings.ToLower(string(doc[j:k]))
	var quote byte
	for ; k < len(doc); k++ {
		c := doc[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, closing, k + 1
		}
	}
	return name, closing, len(doc)
}

func skipPast(doc []byte, i int, marker string) int {
	j := bytes.Index(doc[min(i, len(doc)):], []byte(marker))
	if j < 0 {
		return len(doc)
	}
	return i + j + len(marker)
}

// skipPastFold returns the offset of the first case-insensitive occurrence
// of marker at or after i (len(doc) if none).
func skipPastFold(doc []byte, i int, marker string) int {
	m := []byte(marker)
	for j := i; j+len(m) <= len(doc); j++ {
		if bytes.EqualFold(doc[j:j+len(m)], m) {
			return j
		}
	}
	return len(doc)
}

// collapseSpace trims s and replaces every run of Unicode white space
// (including U+00A0 no-break space) with one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
