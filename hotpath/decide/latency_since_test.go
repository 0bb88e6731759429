package decide

import (
	"slices"
	"testing"
)

// TestLatencySince: a sampler gets each latency once, in order, and after
// falling more than the ring behind, only the ring's last 65,536.
func TestLatencySince(t *testing.T) {
	s := &Stage{}
	s.lat.init()
	got, next := s.LatencySince(0, nil)
	if len(got) != 0 || next != 0 {
		t.Fatalf("empty: %v %d", got, next)
	}
	for i := int64(1); i <= 5; i++ {
		s.lat.add(i)
	}
	got, next = s.LatencySince(0, nil)
	if !slices.Equal(got, []int64{1, 2, 3, 4, 5}) || next != 5 {
		t.Fatalf("first read %v next %d", got, next)
	}
	s.lat.add(6)
	if got, next = s.LatencySince(next, got[:0]); !slices.Equal(got, []int64{6}) || next != 6 {
		t.Fatalf("second read %v next %d", got, next)
	}
	for i := range int64(latencyRing + 10) {
		s.lat.add(100 + i)
	}
	got, next = s.LatencySince(next, nil)
	if len(got) != latencyRing || next != 6+latencyRing+10 || got[0] != 110 || got[len(got)-1] != 100+latencyRing+9 {
		t.Fatalf("overrun: %d values, first %d last %d, next %d", len(got), got[0], got[len(got)-1], next)
	}
}
