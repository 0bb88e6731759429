package edgar

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

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
