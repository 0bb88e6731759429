package spec

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode decodes the first YAML document of b into v, a pointer to a
// struct, strictly: a key that names no field, a key given twice, or a
// value of the wrong kind is a *FieldError naming the field by its full
// path under root ("router.layers[0].bogus" for root "router"; root "" for
// a document whose keys are top-level paths). An empty document leaves v
// as it is. The error names no Doc or File; the caller adds them (Locate).
//
// It walks the YAML node tree beside v's type, so the path of every error
// is known where it happens; values without further structure (numbers,
// strings, types with their own UnmarshalYAML) are decoded by yaml.v3. It
// follows yaml.v3's rules for null values, aliases and merge keys ("<<").
func Decode(b []byte, v any, root string) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("spec.Decode: want a non-nil pointer, got %T", v)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return &FieldError{Reason: err.Error()}
	}
	var second yaml.Node
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		line := 0
		if err == nil {
			line = second.Line
		}
		return &FieldError{Line: line, Reason: "a second YAML document (---): one document only"}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	d := &decoder{budget: maxExpansion * (countNodes(&doc) + 1000)}
	return d.value(doc.Content[0], rv.Elem(), root)
}

// Load reads the file at path and parses it with parse, which names path
// in its errors; doc names the file in a read error ("read profile: …").
func Load[T any](path, doc string, parse func(b []byte, name string) (T, error)) (T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("read %s: %w", doc, err)
	}
	return parse(b, path)
}

// maxExpansion bounds the nodes a decode visits, following aliases, per
// node of the document, so that a small document of nested aliases cannot
// make it visit billions.
const maxExpansion = 16

type decoder struct{ budget int }

var (
	unmarshalerType     = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value decodes n into v (addressable), whose path is path.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) error {
	if d.budget--; d.budget < 0 {
		return &FieldError{Path: path, Line: n.Line, Reason: "too many aliases: the document expands too far"}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	t := v.Type()
	if custom(t) || n.ShortTag() == "!!null" {
		return leaf(n, v, path)
	}
	switch {
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		return d.value(n, v.Elem(), path)
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		return d.structure(n, v, path)
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		return d.mapping(n, v, path)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := d.value(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	return leaf(n, v, path)
}

// custom reports whether t decodes itself from YAML or text.
func custom(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(unmarshalerType) || pt.Implements(unmarshalerType) ||
		t.Implements(textUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

// leaf has yaml.v3 decode n into v. A value of the wrong kind is said in
// our words; an error of a type's own UnmarshalYAML is kept as it is.
func leaf(n *yaml.Node, v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// yaml.v3 truncates a float into an integer field (1.5 → 1, and an
		// integer too large for 64 bits is a float to it): refuse both.
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!float" && !custom(v.Type()) {
			return &FieldError{Path: path, Line: n.Line, Reason: describe(n) + ": want " + want(v.Type()) + " (in range)"}
		}
	}
	err := n.Decode(v.Addr().Interface())
	if err == nil {
		if k := v.Kind(); (k == reflect.Float32 || k == reflect.Float64) && (math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0)) {
			return &FieldError{Path: path, Line: n.Line, Reason: describe(n) + ": want a finite number"}
		}
		return nil
	}
	reason := err.Error()
	if te := (*yaml.TypeError)(nil); errors.As(err, &te) {
		reason = describe(n) + ": want " + want(v.Type())
	}
	return &FieldError{Path: path, Line: n.Line, Reason: reason}
}

// structure decodes a mapping into a struct, refusing keys that name no
// field.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) error {
	fields, names := structFields(v.Type(), nil)
	return d.pairs(n, path, map[string]int{}, false, func(k, val *yaml.Node, p string) error {
		idx, ok := fields[k.Value]
		if !ok {
			return &FieldError{Path: p, Line: k.Line,
				Reason: "unknown key, not found among " + strings.Join(names, ", ")}
		}
		return d.value(val, v.FieldByIndex(idx), p)
	})
}

// mapping decodes a mapping into a map, adding to what it holds.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) error {
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	return d.pairs(n, path, map[string]int{}, false, func(k, val *yaml.Node, p string) error {
		key := reflect.New(t.Key()).Elem()
		if err := leaf(k, key, p); err != nil {
			return err
		}
		elem := reflect.New(t.Elem()).Elem()
		if err := d.value(val, elem, p); err != nil {
			return err
		}
		v.SetMapIndex(key, elem)
		return nil
	})
}

// pairs calls f on each key and value of mapping n, in order, with the
// key's path; seen holds the keys already given and their lines. A key
// given twice is an error. Merged mappings ("<<: *base", or a list of
// them) come after the keys given, and fill only the keys not yet seen,
// the first merged mapping winning, as in yaml.v3: merged is true for
// them.
func (d *decoder) pairs(n *yaml.Node, path string, seen map[string]int, merged bool, f func(k, v *yaml.Node, path string) error) error {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return &FieldError{Path: path, Line: k.Line, Reason: describe(k) + ": want a key name"}
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, val)
			continue
		}
		p := join(path, k.Value)
		if line, ok := seen[k.Value]; ok {
			if merged {
				continue
			}
			return &FieldError{Path: p, Line: k.Line, Reason: fmt.Sprintf("given twice (first at line %d)", line)}
		}
		seen[k.Value] = k.Line
		if err := f(k, val, p); err != nil {
			return err
		}
	}
	for _, m := range merges {
		if m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		list := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			list = m.Content
		}
		for _, src := range list {
			if src.Kind == yaml.AliasNode && src.Alias != nil {
				src = src.Alias
			}
			if src.Kind != yaml.MappingNode {
				return &FieldError{Path: path, Line: src.Line, Reason: describe(src) + ": << merges a mapping or a list of mappings"}
			}
			if d.budget -= len(src.Content); d.budget < 0 {
				return &FieldError{Path: path, Line: src.Line, Reason: "too many aliases: the document expands too far"}
			}
			if err := d.pairs(src, path, seen, true, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// structFields maps the YAML keys of struct t to their field indexes, as
// yaml.v3 names them: the tag's name, else the lowercased field name;
// unexported fields and tag "-" are left out, ",inline" structs flattened.
// names lists the keys in declaration order.
func structFields(t reflect.Type, index []int) (fields map[string][]int, names []string) {
	fields = map[string][]int{}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		idx := append(append([]int(nil), index...), i)
		switch {
		case name == "-" || !sf.IsExported():
			continue
		case opts == "inline" && sf.Type.Kind() == reflect.Struct:
			sub, subNames := structFields(sf.Type, idx)
			for k, v := range sub {
				fields[k] = v
			}
			names = append(names, subNames...)
			continue
		case name == "":
			name = strings.ToLower(sf.Name)
		}
		fields[name] = idx
		names = append(names, name)
	}
	return fields, names
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe names a node in an error: its value, quoted, or its kind.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return strconv.Quote(v)
}

// want names what a value of type t is written as.
func want(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if custom(t) {
		return "a " + strings.ToLower(t.Name())
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}

// countNodes counts the nodes of a document, not following aliases.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}
