package window

import (
	"crypto/sha256"
	"testing"

	"thunderline/hotpath/codec/codectest"
)

// BenchmarkAppendWindow: the canonical encoding of one full-recipe market
// window into a reused buffer, as the builder does before hashing each
// window it closes. No allocation.
func BenchmarkAppendWindow(b *testing.B) {
	w := goldenWindow(KindMarket, RecipeFull)
	buf := make([]byte, 0, MaxWindowSize)
	b.ReportAllocs()
	b.SetBytes(int64(len(AppendWindow(buf, &w, "acme", "ESZ6"))))
	for b.Loop() {
		buf = AppendWindow(buf[:0], &w, "acme", "ESZ6")
	}
}

// BenchmarkAppendWindowRecord: the journal form, then its hash.
func BenchmarkAppendWindowRecordHash(b *testing.B) {
	w := goldenWindow(KindMarket, RecipeFull)
	buf := make([]byte, 0, MaxWindowSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendWindowRecord(buf[:0], &w, "acme", "ESZ6")
		w.Hash = sha256.Sum256(buf)
	}
}

// BenchmarkDecodeWindowRecord: reading a journal record back (replay).
func BenchmarkDecodeWindowRecord(b *testing.B) {
	w := goldenWindow(KindMarket, RecipeFull)
	codectest.BenchDecode(b, AppendWindowRecord(nil, &w, "acme", "ESZ6"), DecodeWindowRecord)
}

func TestAppendWindowNoAllocs(t *testing.T) {
	w := goldenWindow(KindMarket, RecipeFull)
	buf := make([]byte, 0, MaxWindowSize)
	if a := testing.AllocsPerRun(1000, func() {
		buf = AppendWindowRecord(buf[:0], &w, "acme", "ESZ6")
		w.ID = WindowID("acme", w.Kind, "ESZ6", w.Start, w.End, w.Recipe)
	}); a != 0 {
		t.Fatalf("allocs per window = %v", a)
	}
}

// BenchmarkWindowID: the id the builder derives for every window it closes.
func BenchmarkWindowID(b *testing.B) {
	w := goldenWindow(KindMarket, RecipeFull)
	b.ReportAllocs()
	for b.Loop() {
		w.ID = WindowID("acme", w.Kind, "ESZ6", w.Start, w.End, w.Recipe)
	}
}
