package alloctest

import "testing"

var sink []byte

// TestCountSeesRareAllocations: one allocation in 1,000 runs is invisible to
// testing.AllocsPerRun (it reports 0) but Count reports it.
func TestCountSeesRareAllocations(t *testing.T) {
	i := 0
	f := func() {
		i++
		if i%1000 == 0 {
			sink = make([]byte, 64)
		}
	}
	if a := testing.AllocsPerRun(999, f); a != 0 {
		t.Fatalf("AllocsPerRun = %v: the premise changed", a)
	}
	// Any 2,000 consecutive runs make exactly 2: each of the three
	// measurements sees them.
	if n := Count(2000, f); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	// One stray allocation (another goroutine's, or one-off growth) in one
	// measurement only is not counted; one in each is.
	calls := 0
	if n := Count(10, func() {
		calls++
		if calls == 5 {
			sink = make([]byte, 64)
		}
	}); n != 0 {
		t.Fatalf("Count = %d for an allocation in one measurement only, want 0", n)
	}
	if n := Count(1000, func() {}); n != 0 {
		t.Fatalf("an empty loop allocated %d", n)
	}
}
