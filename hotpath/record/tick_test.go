package record

import (
	"testing"
	"unsafe"
)

func TestTickSize(t *testing.T) {
	if got := unsafe.Sizeof(MarketTick{}); got != TickSize {
		t.Fatalf("sizeof(MarketTick) = %d, TickSize = %d", got, TickSize)
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for r := Reason(0); int(r) < NumReasons; r++ {
		n := r.String()
		if n == "" || n == "invalid" || seen[n] {
			t.Fatalf("reason %d has bad or duplicate name %q", r, n)
		}
		seen[n] = true
	}
	if Reason(200).String() != "invalid" {
		t.Fatal("out-of-range reason must name itself invalid")
	}
}

func TestSymbols(t *testing.T) {
	s := NewSymbols()
	a, _ := s.Intern("ESH4")
	b, _ := s.Intern("NQH4")
	a2, _ := s.Intern("ESH4")
	if a != 1 || b != 2 || a2 != a {
		t.Fatalf("ids = %d %d %d", a, b, a2)
	}
	if s.Name(b) != "NQH4" || s.Lookup("NQH4") != b || s.Known(0) || !s.Known(2) || s.Known(3) {
		t.Fatal("lookup mismatch")
	}
}
