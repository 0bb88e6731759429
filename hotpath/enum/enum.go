package enum

import (
	"fmt"
	"strings"
)

// Names names the values of an enumeration E: Names[v] is the name of v,
// "" for a value that has none. Write it with the values as keys:
//
//	var policyNames = enum.Names[Policy]{PolicyAbstain: "abstain", PolicyArgmax: "argmax"}
type Names[E ~uint8] []string

// Name is the name of v, and false when v has none.
func (n Names[E]) Name(v E) (string, bool) {
	if int(v) < len(n) && n[v] != "" {
		return n[v], true
	}
	return "", false
}

// Or is the name of v, or fallback when v has none.
func (n Names[E]) Or(v E, fallback string) string {
	if s, ok := n.Name(v); ok {
		return s
	}
	return fallback
}

// Lookup is the value named s, and false when none is.
func (n Names[E]) Lookup(s string) (E, bool) {
	for v, name := range n {
		if name != "" && name == s {
			return E(v), true
		}
	}
	return 0, false
}

// Parse is the value named s, or an error naming what was parsed and the
// names it takes: `activation "x": want relu or tanh`.
func (n Names[E]) Parse(what, s string) (E, error) {
	if v, ok := n.Lookup(s); ok {
		return v, nil
	}
	return 0, fmt.Errorf("%s %q: want %s", what, s, n.Want())
}

// Want lists the names in value order for a message: "a", "a or b",
// "a, b or c".
func (n Names[E]) Want() string {
	var names []string
	for _, name := range n {
		if name != "" {
			names = append(names, name)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
