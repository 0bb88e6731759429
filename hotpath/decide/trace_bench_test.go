package decide

import (
	"testing"

	"thunderline/hotpath/codec/codectest"
)

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
	codectest.BenchDecode(b, AppendTraceRecord(nil, &tr, "acme", "ESZ6"), DecodeTraceRecord)
}

func TestAppendTraceNoAllocs(t *testing.T) {
	tr := goldenTrace()
	buf := make([]byte, 0, MaxTraceSize)
	if a := testing.AllocsPerRun(1000, func() { buf = AppendTraceRecord(buf[:0], &tr, "acme", "ESZ6") }); a != 0 {
		t.Fatalf("allocs per trace = %v", a)
	}
}
