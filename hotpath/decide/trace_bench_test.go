package decide

import "testing"

// BenchmarkAppendTraceRecord: the journal form of a two-layer trace into a
// reused buffer, as the stage does for every routed window. No allocation.
func BenchmarkAppendTraceRecord(b *testing.B) {
	tr := goldenTrace()
	buf := make([]byte, 0, MaxTraceSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendTraceRecord(buf[:0], &tr, "acme", "ESZ6")
	}
}

// BenchmarkDecodeTraceRecord: reading a trace record back (replay).
func BenchmarkDecodeTraceRecord(b *testing.B) {
	tr := goldenTrace()
	rec := AppendTraceRecord(nil, &tr, "acme", "ESZ6")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeTraceRecord(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAppendTraceNoAllocs(t *testing.T) {
	tr := goldenTrace()
	buf := make([]byte, 0, MaxTraceSize)
	if a := testing.AllocsPerRun(1000, func() { buf = AppendTraceRecord(buf[:0], &tr, "acme", "ESZ6") }); a != 0 {
		t.Fatalf("allocs per trace = %v", a)
	}
}
