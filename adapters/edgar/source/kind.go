package source

import (
	"bytes"
	"path"
	"strings"
)

// Kind is what a document is, sniffed from its first bytes.
type Kind uint8

const (
	KindUnknown      Kind = iota
	KindSGML              // full-text submission: <SEC-DOCUMENT> or <SEC-HEADER> at the start of a line
	KindXBRL              // XBRL instance: root element xbrl (any prefix, e.g. xbrli:xbrl)
	KindInlineXBRL        // HTML declaring xmlns:ix or containing ix:header
	KindHTML              // other HTML
	KindCompanyFacts      // JSON object with "cik" and "facts" keys (data.sec.gov companyfacts)
	KindSubmissions       // JSON object with "cik" and "filings" keys (data.sec.gov submissions)
	KindIndex             // EDGAR form, company or master/xbrl .idx
)

var kindNames = [...]string{"unknown", "sgml", "xbrl", "ixbrl", "html", "companyfacts", "submissions", "index"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// SniffLen is how many leading bytes Sniff looks at; more are ignored.
const SniffLen = 8 << 10

// Sniff tells what a document is from its first bytes (at most SniffLen are
// read). The content decides; the name's extension only breaks a tie for
// markup without a recognisable root element (.htm, .html → HTML). It is
// cheap and never fails: anything unrecognised is KindUnknown.
func Sniff(name string, head []byte) Kind {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	if lineStartsWith(head, "<SEC-DOCUMENT>") || lineStartsWith(head, "<SEC-HEADER>") {
		return KindSGML
	}
	b := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return KindUnknown
	}
	switch b[0] {
	case '{':
		switch {
		case !hasJSONKey(b, "cik"):
			return KindUnknown
		case hasJSONKey(b, "facts"):
			return KindCompanyFacts
		case hasJSONKey(b, "filings"):
			return KindSubmissions
		}
		return KindUnknown
	case '<':
		return sniffMarkup(name, b)
	}
	if isIndexHead(b) {
		return KindIndex
	}
	return KindUnknown
}

// lineStartsWith reports whether tag begins b or begins a line of b.
func lineStartsWith(b []byte, tag string) bool {
	t := []byte(tag)
	if bytes.HasPrefix(b, t) {
		return true
	}
	for {
		i := bytes.Index(b, t)
		if i < 0 {
			return false
		}
		if i > 0 && b[i-1] == '\n' {
			return true
		}
		b = b[i+len(t):]
	}
}

// hasJSONKey reports whether "key" appears followed by optional white
// space and a colon: a key, not a value.
func hasJSONKey(b []byte, key string) bool {
	q := []byte(`"` + key + `"`)
	for {
		i := bytes.Index(b, q)
		if i < 0 {
			return false
		}
		b = b[i+len(q):]
		r := bytes.TrimLeft(b, " \t\r\n")
		if len(r) > 0 && r[0] == ':' {
			return true
		}
	}
}

// isIndexHead recognises the header of an EDGAR index: the column titles
// (fixed-width "Form Type ... Date Filed" or the pipe-separated
// "CIK|Company Name|Form Type|Date Filed|Filename") followed by the rule of
// dashes that ends every index header.
func isIndexHead(b []byte) bool {
	titles := bytes.Index(b, []byte("Date Filed"))
	if titles < 0 || !bytes.Contains(b[:titles], []byte("Form Type")) {
		return false
	}
	return bytes.Contains(b[titles:], []byte("\n----------"))
}

// sniffMarkup classifies a document starting with '<' by its root element,
// after the XML declaration, comments, processing instructions and DOCTYPE.
func sniffMarkup(name string, head []byte) Kind {
	doctypeHTML := false
	root := ""
	for b := head; root == ""; {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) < 2 || b[0] != '<' {
			break
		}
		var end string
		switch {
		case b[1] == '?':
			end = "?>"
		case bytes.HasPrefix(b, []byte("<!--")):
			end = "-->"
		case b[1] == '!':
			doctypeHTML = doctypeHTML || isDoctypeHTML(b)
			end = ">"
		default:
			root = elementName(b[1:])
			if root == "" {
				return sniffByExt(name, head)
			}
			continue
		}
		i := bytes.Index(b, []byte(end))
		if i < 0 {
			break
		}
		b = b[i+len(end):]
	}
	local := root
	if i := strings.IndexByte(local, ':'); i >= 0 {
		local = local[i+1:]
	}
	if local == "xbrl" {
		return KindXBRL
	}
	if !doctypeHTML && !strings.EqualFold(local, "html") {
		return sniffByExt(name, head)
	}
	return htmlKind(head)
}

// sniffByExt is the tie-break for markup without a recognisable root.
func sniffByExt(name string, head []byte) Kind {
	switch strings.ToLower(path.Ext(name)) {
	case ".htm", ".html":
		return htmlKind(head)
	}
	return KindUnknown
}

func htmlKind(head []byte) Kind {
	if bytes.Contains(head, []byte("xmlns:ix=")) || bytes.Contains(head, []byte("<ix:header")) {
		return KindInlineXBRL
	}
	return KindHTML
}

func isDoctypeHTML(b []byte) bool {
	if len(b) < 9 || !strings.EqualFold(string(b[2:9]), "DOCTYPE") {
		return false
	}
	r := bytes.TrimLeft(b[9:], " \t\r\n")
	return len(r) >= 4 && strings.EqualFold(string(r[:4]), "html")
}

// elementName returns the tag name at the start of b ("" if none).
func elementName(b []byte) string {
	n := 0
	for n < len(b) && n < 64 {
		c := b[n]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/' {
			break
		}
		n++
	}
	if n == len(b) || n == 64 {
		return ""
	}
	return string(b[:n])
}
