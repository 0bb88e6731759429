package window

import (
	"math"
	"testing"

	"thunderline/hotpath/codec/codectest"
)

// goldenWindow is a window with every field set, features that are not
// round numbers (so float bits matter) and a negative one.
func goldenWindow(kind WindowKind, r Recipe) FeatureWindow {
	w := FeatureWindow{Kind: kind, Recipe: r, SchemaVersion: 1, Start: 1_700_000_000_250_000_000, End: 1_700_000_000_500_000_000,
		Label: LabelSpec{Horizon: 500_000_000, Type: LabelClass, ThresholdBps: 2.5}, FirstInSeq: 1001, LastInSeq: 1042,
		Ticks: 42, Symbol: 3, Status: StatusOpen}
	for _, f := range r.Features() {
		w.Features[f.Slot()] = math.Pi*float64(f) - 7.125
	}
	w.ID = WindowID("acme", kind, "ESZ6", w.Start, w.End, r)
	return w
}

// TestGoldenEncodings pins the canonical encodings byte for byte: the
// window and label hashes and the journal records are computed over them.
func TestGoldenEncodings(t *testing.T) {
	w := goldenWindow(KindMarket, RecipeFull)
	codectest.Golden(t, "window_full", AppendWindowRecord(nil, &w, "acme", "ESZ6"))
	w = goldenWindow(KindMarket, RecipeCore)
	codectest.Golden(t, "window_core", AppendWindowRecord(nil, &w, "", "X"))
	e := goldenWindow(KindEdgar, RecipeEdgar)
	codectest.Golden(t, "window_edgar", AppendWindowRecordExt(nil, &e, "acme", "0000320193/10-K", []byte("TLEP-extension")))
	l := LabelFill{WindowID: w.ID, End: w.End, Label: w.Label, MidEnd: 101.25, MidTarget: 101.5, Value: 1, Valid: true}
	codectest.Golden(t, "label", AppendLabel(nil, &l, "ESZ6"))
	id := WindowID("acme", KindMarket, "ESZ6", w.Start, w.End, RecipeFull)
	codectest.Golden(t, "window_id", id[:])
	long := string(make([]byte, 300)) // names are cut at 255 bytes
	codectest.Golden(t, "window_long_names", AppendWindowRecord(nil, &w, long, long[:256]))
}
