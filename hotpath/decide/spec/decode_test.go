package spec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// doc is a small schema with every shape Decode walks: nested structs,
// pointers, lists of structs, maps, a type with its own UnmarshalYAML, an
// inline struct and fields yaml.v3 leaves out.
type doc struct {
	Name   string             `yaml:"name"`
	Count  int                `yaml:"count"`
	Wait   Duration           `yaml:"wait"`
	Opt    *bool              `yaml:"opt"`
	Until  *Duration          `yaml:"until"`
	Inner  inner              `yaml:"inner"`
	Ptr    *inner             `yaml:"ptr"`
	Items  []inner            `yaml:"items"`
	Tags   []string           `yaml:"tags"`
	Params map[string]float64 `yaml:"params"`
	Embed  embedded           `yaml:",inline"`
	Plain  int                // yaml.v3's name: "plain"
	Skip   int                `yaml:"-"`
	hidden int
}

type inner struct {
	A int    `yaml:"a"`
	B string `yaml:"b"`
}

type embedded struct {
	Extra string `yaml:"extra"`
}

func TestDecode(t *testing.T) {
	var d doc
	err := Decode([]byte(`
name: n
count: 3
wait: 250ms
opt: true
inner: {a: 1, b: x}
ptr: {a: 2}
items: [{a: 3}, {b: y}]
tags: [p, q]
params: {k: 1.5}
extra: e
plain: 4
`), &d, "root")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "n" || d.Count != 3 || time.Duration(d.Wait) != 250*time.Millisecond || d.Opt == nil || !*d.Opt ||
		d.Inner != (inner{1, "x"}) || d.Ptr == nil || *d.Ptr != (inner{A: 2}) || len(d.Items) != 2 ||
		d.Items[1] != (inner{B: "y"}) || strings.Join(d.Tags, ",") != "p,q" || d.Params["k"] != 1.5 ||
		d.Embed.Extra != "e" || d.Plain != 4 || d.Skip != 0 || d.hidden != 0 {
		t.Fatalf("decoded %+v", d)
	}
}

// TestDecodeYAMLRules: null values, aliases, merge keys and empty
// documents behave as in yaml.v3.
func TestDecodeYAMLRules(t *testing.T) {
	var v struct {
		Base  inner    `yaml:"base"`
		Inner inner    `yaml:"inner"`
		Items []inner  `yaml:"items"`
		Ptr   *inner   `yaml:"ptr"`
		Tags  []string `yaml:"tags"`
	}
	v.Ptr, v.Tags = &inner{}, []string{"old"}
	if err := Decode([]byte(`
base: &base {a: 7, b: base}
inner:
  <<: *base
  b: own
items: [*base, {<<: [{a: 1}, {a: 2, b: two}]}]
ptr: ~
tags: null
`), &v, ""); err != nil {
		t.Fatal(err)
	}
	if v.Inner != (inner{7, "own"}) || len(v.Items) != 2 || v.Items[0] != (inner{7, "base"}) ||
		v.Items[1] != (inner{1, "two"}) || v.Ptr != nil || v.Tags != nil {
		t.Fatalf("decoded %+v", v)
	}
	for _, empty := range []string{"", "# only a comment\n", "~\n"} {
		d := doc{Name: "kept"}
		if err := Decode([]byte(empty), &d, ""); err != nil || d.Name != "kept" {
			t.Errorf("%q: %v, %+v", empty, err, d)
		}
	}
}

// TestDecodeErrors: every error is a *FieldError naming the field by its
// full path, with the line, in our words (never yaml.v3's).
func TestDecodeErrors(t *testing.T) {
	f := func(in, wantPath string, wantLine int, wantReason string) {
		t.Helper()
		var d doc
		if fe := checkFieldError(t, in, Decode([]byte(in), &d, "root"), wantPath, wantReason); fe.Line != wantLine {
			t.Errorf("%q: line %d, want %d", in, fe.Line, wantLine)
		}
	}
	f("bogus: 1\n", "root.bogus", 1, "unknown key, not found among name, count, wait, opt, until, inner, ptr, items, tags, params, extra, plain")
	f("name: a\ninner: {a: 1, c: 2}\n", "root.inner.c", 2, "unknown key, not found among a, b")
	f("items:\n  - {a: 1}\n  - {a: 2, zz: 3}\n", "root.items[1].zz", 3, "unknown key")
	f("ptr: {q: 1}\n", "root.ptr.q", 1, "unknown key")
	f("skip: 1\n", "root.skip", 1, "unknown key")
	f("hidden: 1\n", "root.hidden", 1, "unknown key")
	f("base: &b {zz: 1}\ninner: {<<: *b}\n", "root.base", 1, "unknown key") // the top level first
	f("count: 1\ncount: 2\n", "root.count", 2, "given twice (first at line 1)")
	f("params: {k: 1, k: 2}\n", "root.params.k", 1, "given twice")
	f("count: many\n", "root.count", 1, `"many": want an integer`)
	f("count: [1]\n", "root.count", 1, "a list: want an integer")
	f("name: {a: 1}\n", "root.name", 1, "a mapping: want a string")
	f("opt: maybe\n", "root.opt", 1, `"maybe": want true or false`)
	f("items: {a: 1}\n", "root.items", 1, "a mapping: want a list")
	f("inner: 5\n", "root.inner", 1, `"5": want a mapping`)
	f("params: {k: x}\n", "root.params.k", 1, `"x": want a number`)
	f("tags: [a, [b]]\n", "root.tags[1]", 1, "a list: want a string")
	f("wait: soon\n", "root.wait", 1, `"soon" is not a duration`)
	f("wait: [1s]\n", "root.wait", 1, "a list: want a duration")
	f("until: {a: 1}\n", "root.until", 1, "a mapping: want a duration")
	f("inner: {<<: 5}\n", "root.inner", 1, "<< merges a mapping")
	f("[1, 2]\n", "root", 1, "a list: want a mapping")
	f("? [a]\n: 1\n", "root", 1, "want a key name")
	f("name: [unclosed\n", "", 0, "yaml:") // a syntax error names no field
}

// tree nests lists without end, so Decode walks whatever it is given
// (yaml.v3 itself, which limits aliasing too, never sees it).
type tree []tree

// TestDecodeAliasBomb: nested aliases that would expand to billions of
// nodes are refused, quickly.
func TestDecodeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 []\n")
	for i := 1; i < 10; i++ {
		// Each level is a list of ten of the level below.
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	var v map[string]tree
	start := time.Now()
	err := Decode([]byte(b.String()), &v, "")
	var fe *FieldError
	if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "too many aliases") {
		t.Fatalf("error %v, want a FieldError about aliases", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestDecodeWantsAPointer(t *testing.T) {
	var d doc
	if err := Decode([]byte("name: x\n"), d, ""); err == nil {
		t.Fatal("decoding into a value: want an error")
	}
}

func TestFieldErrorAndLocate(t *testing.T) {
	for _, c := range []struct {
		err  *FieldError
		want string
	}{
		{&FieldError{Doc: "profile", File: "a.yaml", Line: 3, Path: "window.length", Reason: "bad"}, "profile a.yaml: line 3: window.length: bad"},
		{&FieldError{Path: "router.p", Reason: "1.5: want"}, "router.p: 1.5: want"},
		{&FieldError{Doc: "router config", Reason: "yaml: oops"}, "router config: yaml: oops"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	if Locate(nil, "profile", "a.yaml") != nil {
		t.Fatal("Locate(nil) is not nil")
	}
	orig := Fieldf("x.y", "%d: bad", 3)
	var fe *FieldError
	if err := Locate(orig, "profile", "a.yaml"); !errors.As(err, &fe) || err.Error() != "profile a.yaml: x.y: 3: bad" || orig.File != "" {
		t.Fatalf("Locate: %v (original %+v)", err, orig)
	}
	if err := Locate(fe, "other", "b.yaml"); err.Error() != "profile a.yaml: x.y: 3: bad" {
		t.Fatalf("Locate kept no first file: %v", err)
	}
	if err := Locate(errors.New("plain"), "profile", "a.yaml"); !errors.As(err, &fe) || fe.Path != "" || err.Error() != "profile a.yaml: plain" {
		t.Fatalf("Locate(plain): %v", err)
	}
}
