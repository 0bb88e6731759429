package decide

import (
	"slices"
	"testing"

	"thunderline/hotpath/window"
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

// TestEndLatencyApart: windows the end of the input closed (AtEnd) are
// measured in EndLatency, the others in Latency, each trace in exactly one.
func TestEndLatencyApart(t *testing.T) {
	var traces int
	s, err := NewStage(StageConfig{Tenant: "t", Partitions: 1, MaxBatch: 7,
		Emit: func(*DecisionTrace) { traces++ }}, newSyms(5), oneLayer(t, 1, 8, heads(t), 0))
	if err != nil {
		t.Fatal(err)
	}
	ws := windows(5, 4, 3)
	for i := range ws {
		ws[i].ClosedNs = window.MonoNow()
		ws[i].AtEnd = ws[i].End == ws[len(ws)-1].End // the last boundary: flushed at the end
	}
	drive(t, s, ws)
	_, _, _, steady := s.Latency()
	_, _, _, end := s.EndLatency()
	if traces != len(ws) || steady != 15 || end != 5 {
		t.Fatalf("traces %d: close→trace counted %d, at the end %d; want 15 and 5", traces, steady, end)
	}
}
