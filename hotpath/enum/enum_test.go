package enum

import (
	"strings"
	"testing"
)

type color uint8

const (
	red color = iota + 1
	green
	blue
	ultraviolet // has no name
)

var colorNames = Names[color]{red: "red", green: "green", blue: "blue"}

func TestNames(t *testing.T) {
	for v, want := range map[color]string{red: "red", green: "green", blue: "blue", 0: "", ultraviolet: "", 200: ""} {
		got, ok := colorNames.Name(v)
		if got != want || ok != (want != "") {
			t.Errorf("Name(%d) = %q, %v; want %q", v, got, ok, want)
		}
		if v, ok := colorNames.Lookup(want); want != "" && (!ok || colorNames.Or(v, "?") != want) {
			t.Errorf("Lookup(%q) = %d, %v", want, v, ok)
		}
	}
	if colorNames.Or(0, "invalid") != "invalid" || colorNames.Or(200, "invalid") != "invalid" {
		t.Error("Or: no fallback for a value without a name")
	}
	if _, ok := colorNames.Lookup(""); ok {
		t.Error(`Lookup("") found a value`)
	}
	if v, err := colorNames.Parse("color", "blue"); err != nil || v != blue {
		t.Errorf("Parse(blue) = %d, %v", v, err)
	}
	_, err := colorNames.Parse("color", "mauve")
	if err == nil || err.Error() != `color "mauve": want red, green or blue` {
		t.Errorf("Parse(mauve): %v", err)
	}
	if w := (Names[color]{red: "red", green: "green"}).Want(); w != "red or green" {
		t.Errorf("Want = %q", w)
	}
	if w := (Names[color]{blue: "blue"}).Want(); w != "blue" {
		t.Errorf("Want = %q", w)
	}
	if !strings.Contains(colorNames.Want(), "green") {
		t.Error("Want misses a name")
	}
}

func TestNameNoAllocs(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { _ = colorNames.Or(green, "invalid") }); a != 0 {
		t.Fatalf("allocs = %v", a)
	}
}
