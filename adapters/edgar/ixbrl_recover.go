package edgar

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	stdhtml "html"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// Recovery says how an inline XBRL document that is not well-formed XML
// was read (Instance.Recovery): the first XML error, and what the HTML5
// tokenizer's reading changed to make the element structure well-formed.
type Recovery struct {
	Line int    // line of the first XML error; 0 when the parser did not say
	Err  string // the XML parser's message
	// StrayEnds counts end tags that closed no open element (dropped);
	// Closed counts elements closed implicitly, by the end tag of an
	// element around them or by the end of the document; BadTags counts
	// tags whose names are not XML names (dropped, their text kept).
	StrayEnds, Closed, BadTags int
}

func (r *Recovery) String() string {
	return fmt.Sprintf("%s; recovered with the HTML5 tokenizer (%d stray end tags dropped, %d elements closed implicitly, %d bad tags dropped)",
		r.cause(), r.StrayEnds, r.Closed, r.BadTags)
}

func (r *Recovery) cause() string {
	if r.Line > 0 {
		return fmt.Sprintf("not well-formed XML at line %d: %s", r.Line, r.Err)
	}
	return "not well-formed XML: " + r.Err
}

// newRecovery describes the error that stopped the XML parse.
func newRecovery(err error) *Recovery {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &Recovery{Line: se.Line, Err: se.Msg}
	}
	return &Recovery{Err: err.Error()}
}

// recoverIX reads doc as HTML5 and parses the well-formed XML that
// wellFormed makes of it: the facts whose elements parse, with their
// contexts and units, under the same bounds as the first parse.
func recoverIX(doc []byte, o IXOptions, first error) (*Instance, error) {
	rec := newRecovery(first)
	fixed := wellFormed(doc, rec)
	in, err := parseIX(fixed, o)
	if err != nil {
		return nil, fmt.Errorf("parse inline XBRL: %s; read again with the HTML5 tokenizer: %w", rec.cause(), err)
	}
	in.Recovery = rec
	return in, nil
}

// voidElements are the HTML elements that never have content: written
// self-closed, never waited for.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true, "wbr": true,
}

// wellFormed rewrites an HTML or XHTML document as well-formed XML, read
// by the HTML5 tokenizer (golang.org/x/net/html): names keep their case,
// entities are decoded and text re-escaped, characters XML does not allow
// are dropped, an end tag that matches no open element is dropped, one
// that matches an element further out closes the elements inside it, and
// the elements still open at the end are closed. Comments, doctypes and
// processing instructions are dropped; a Latin-1 document (declared so in
// its XML declaration) is transcoded to UTF-8 first.
//
// The work is linear in doc: every element is opened and closed once, and
// an end tag is matched against the open elements by a count per name.
// The output is at most a few times doc (an escaped '&' or '"', a closing
// tag for each opening).
func wellFormed(doc []byte, rec *Recovery) []byte {
	if isLatin1Decl(doc) {
		doc = latin1ToUTF8(doc)
	}
	z := html.NewTokenizer(bytes.NewReader(doc))
	z.AllowCDATA(true)
	out := make([]byte, 0, len(doc)+len(doc)/8)
	var (
		stack []string           // open elements as written
		open  = map[string]int{} // open elements by lower-case name
	)
	closeTop := func() {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		open[strings.ToLower(n)]--
		out = append(out, "</"...)
		out = append(out, n...)
		out = append(out, '>')
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			for len(stack) > 0 {
				rec.Closed++
				closeTop()
			}
			return out
		case html.TextToken:
			out = appendXMLText(out, z.Text(), false)
		case html.StartTagToken, html.SelfClosingTagToken:
			name, attrs, ok := lexTag(z.Raw())
			if !ok {
				rec.BadTags++
				continue
			}
			out = appendStart(out, name, attrs)
			if l := strings.ToLower(name); tt == html.SelfClosingTagToken || voidElements[l] {
				out = append(out, "/>"...)
			} else {
				out = append(out, '>')
				stack = append(stack, name)
				open[l]++
			}
		case html.EndTagToken:
			name, _, ok := lexTag(z.Raw())
			l := strings.ToLower(name)
			switch {
			case !ok:
				rec.BadTags++
			case voidElements[l] && open[l] == 0:
				// </br>: nothing to close
			case open[l] == 0:
				rec.StrayEnds++
			default:
				for !strings.EqualFold(stack[len(stack)-1], name) {
					rec.Closed++
					closeTop()
				}
				closeTop()
			}
		}
	}
}

// lexTag reads the name and attributes of a raw tag ("<ix:nonFraction
// contextRef=c-1 ...>", "</div>") with their case, as the HTML5
// tokenizer delimits them; ok is false when the name is not an XML name.
// Attributes that are not XML names, and repeats, are left out.
func lexTag(raw []byte) (name string, attrs []xml.Attr, ok bool) {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	isSpace := func(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' }
	j := i
	for j < len(raw) && !isSpace(raw[j]) && raw[j] != '/' && raw[j] != '>' {
		j++
	}
	name = string(raw[i:j])
	if !xmlName(name) {
		return name, nil, false
	}
	seen := map[string]bool{}
	for i = j; i < len(raw); {
		for i < len(raw) && isSpace(raw[i]) {
			i++
		}
		if i >= len(raw) || raw[i] == '>' {
			break
		}
		// The key: up to white space, '/', '>' or an '=' that is not its
		// first character.
		ks := i
		for i < len(raw) && !isSpace(raw[i]) && raw[i] != '/' && raw[i] != '>' && (raw[i] != '=' || i == ks) {
			i++
		}
		if i == ks { // a '/'
			i++
			continue
		}
		key := string(raw[ks:i])
		var val []byte
		k := i
		for k < len(raw) && isSpace(raw[k]) {
			k++
		}
		if k < len(raw) && raw[k] == '=' {
			k++
			for k < len(raw) && isSpace(raw[k]) {
				k++
			}
			switch {
			case k >= len(raw) || raw[k] == '>':
			case raw[k] == '"' || raw[k] == '\'':
				q := raw[k]
				e := bytes.IndexByte(raw[k+1:], q)
				if e < 0 {
					e = len(raw) - k - 1
				}
				val, k = raw[k+1:k+1+e], min(len(raw), k+2+e)
			default:
				e := k
				for e < len(raw) && !isSpace(raw[e]) && raw[e] != '>' {
					e++
				}
				val, k = raw[k:e], e
			}
			i = k
		}
		lk := strings.ToLower(key)
		if !xmlName(key) || seen[lk] {
			continue
		}
		seen[lk] = true
		a := xml.Attr{Value: stdhtml.UnescapeString(string(val))}
		a.Name.Local = key
		attrs = append(attrs, a)
	}
	return name, attrs, true
}

// xmlName reports whether s is a name encoding/xml reads in every
// position: ASCII letters, digits, '_', '-', '.', at most one ':' inside.
func xmlName(s string) bool {
	if s == "" || !(s[0] == '_' || s[0]|0x20 >= 'a' && s[0]|0x20 <= 'z') {
		return false
	}
	colons := 0
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colons++
			if colons > 1 || i == len(s)-1 {
				return false
			}
		case c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z':
		default:
			return false
		}
	}
	return true
}

func appendStart(out []byte, name string, attrs []xml.Attr) []byte {
	out = append(out, '<')
	out = append(out, name...)
	for _, a := range attrs {
		out = append(out, ' ')
		out = append(out, a.Name.Local...)
		out = append(out, `="`...)
		out = appendXMLText(out, []byte(a.Value), true)
		out = append(out, '"')
	}
	return out
}

// appendXMLText appends s escaped for XML text (or an attribute value):
// invalid UTF-8 becomes U+FFFD, characters XML does not allow are dropped.
func appendXMLText(out, s []byte, inAttr bool) []byte {
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		s = s[n:]
		switch {
		case r == '&':
			out = append(out, "&amp;"...)
		case r == '<':
			out = append(out, "&lt;"...)
		case r == '>':
			out = append(out, "&gt;"...)
		case r == '"' && inAttr:
			out = append(out, "&quot;"...)
		case r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune:
			out = utf8.AppendRune(out, r)
		}
	}
	return out
}

// isLatin1Decl reports whether doc's XML declaration names one of the
// single-byte encodings newDecoder reads as Latin-1.
func isLatin1Decl(doc []byte) bool {
	head := doc[:min(len(doc), 200)]
	if !bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("<?xml")) {
		return false
	}
	end := bytes.Index(head, []byte("?>"))
	if end < 0 {
		return false
	}
	decl := strings.ToLower(string(head[:end]))
	for _, e := range [...]string{"iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252"} {
		if strings.Contains(decl, `"`+e+`"`) || strings.Contains(decl, `'`+e+`'`) {
			return true
		}
	}
	return false
}

func latin1ToUTF8(doc []byte) []byte {
	out := make([]byte, 0, len(doc)+len(doc)/16)
	for _, c := range doc {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}
