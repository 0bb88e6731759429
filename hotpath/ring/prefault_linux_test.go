package ring

import (
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
)

// minorFaults is this thread's count of minor page faults.
func minorFaults(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}

// TestPrefault: a ring's memory is mapped when it is built, so the first
// pass of writes over its slots takes no page fault. Without the prefault
// it takes one per 4 KiB page (checked on a plain slice of the same size:
// the heap's free memory is first handed back to the OS, so neither the
// slice nor the rings get pages an earlier test already mapped).
func TestPrefault(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector maps its shadow memory lazily too: runs without it in make test (./hotpath/...)")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const slots = 1 << 16 // 104-byte ticks: 6.5 MiB, 1,664 pages
	type tick [104]byte
	fill := func(push func(*tick) bool) int64 {
		before := minorFaults(t)
		var v tick
		v[0] = 1
		for range slots {
			if !push(&v) {
				t.Fatal("ring full")
			}
		}
		return minorFaults(t) - before
	}
	debug.FreeOSMemory()
	plain := make([]tick, slots)
	i := 0
	lazy := fill(func(v *tick) bool { plain[i] = *v; i++; return true })
	if lazy < slots*104/pageSize/2 {
		t.Fatalf("a plain slice took %d page faults on its first pass, want one a page: the test cannot tell a prefaulted ring from any other", lazy)
	}
	debug.FreeOSMemory()
	s, _ := NewSPSC[tick](slots)
	m, _ := NewMPSC[tick](slots)
	if f := fill(s.Push); f > 16 {
		t.Errorf("SPSC: %d page faults writing a new ring (a plain slice: %d)", f, lazy)
	}
	if f := fill(m.Push); f > 16 {
		t.Errorf("MPSC: %d page faults writing a new ring (a plain slice: %d)", f, lazy)
	}
}

// TestTouchChangesNothing: Touch reads the next slots, wrapping, and leaves
// the ring as it was.
func TestTouchChangesNothing(t *testing.T) {
	s, _ := NewSPSC[uint64](8)
	for v := uint64(1); v <= 6; v++ {
		s.Push(&v)
	}
	var got uint64
	s.Pop(&got)
	s.Pop(&got)
	s.Touch(100) // slots 6, 7, 0, 1, ... wrapping, capped at the ring's 8
	if s.Len() != 4 {
		t.Fatalf("len %d after Touch, want 4", s.Len())
	}
	for want := uint64(3); want <= 6; want++ {
		if !s.Pop(&got) || got != want {
			t.Fatalf("popped %d, want %d", got, want)
		}
	}
	m, _ := NewMPSC[uint64](4)
	v := uint64(9)
	m.Push(&v)
	m.Touch(4)
	if !m.Pop(&got) || got != 9 || m.Pop(&got) {
		t.Fatalf("MPSC after Touch: %d", got)
	}
}
