package decide

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"thunderline/hotpath/window"
)

// BenchmarkBatcherRelease16: one boundary of 16 windows, arriving in
// reverse name order (the worst case), added and released: the batcher's
// index sort, against sorting the windows by value as it used to (the
// baseline, in the same run).
func BenchmarkBatcherRelease16(b *testing.B) {
	syms := newSyms(16)
	ws := windows(16, 1, 1)
	slices.Reverse(ws)
	b.Run("index", func(b *testing.B) {
		bt := NewBatcher(syms, 1, 256, 64)
		route := func([]window.FeatureWindow) {}
		b.ReportAllocs()
		for i := range b.N {
			for k := range ws {
				w := ws[k]
				w.End += int64(i) << 20
				bt.Add(&w)
			}
			bt.Mark(0, ws[0].End+int64(i)<<20, route)
		}
	})
	b.Run("by-value", func(b *testing.B) {
		ready := make([]window.FeatureWindow, 0, 64)
		byValue := func(x, y window.FeatureWindow) int {
			if c := cmp.Compare(x.End, y.End); c != 0 {
				return c
			}
			if c := strings.Compare(syms.Name(x.Symbol), syms.Name(y.Symbol)); c != 0 {
				return c
			}
			return cmp.Compare(x.Start, y.Start)
		}
		b.ReportAllocs()
		for range b.N {
			ready = append(ready[:0], ws...)
			slices.SortFunc(ready, byValue)
		}
	})
}

// TestBatcherOrder: the index sort gives the by-value order, whatever the
// arrival order, and a boundary that arrives in order is routed in place.
func TestBatcherOrder(t *testing.T) {
	syms := newSyms(16)
	ws := windows(16, 3, 1)
	slices.Reverse(ws)
	var got []window.FeatureWindow
	bt := NewBatcher(syms, 1, 256, 64)
	for k := range ws {
		bt.Add(&ws[k])
	}
	bt.Mark(0, 1<<40, func(b []window.FeatureWindow) { got = append(got, b...) })
	want := slices.Clone(ws)
	slices.SortFunc(want, func(x, y window.FeatureWindow) int { return bt.compare(&x, &y) })
	if len(got) != len(want) {
		t.Fatalf("%d windows routed, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("window %d: %x, want %x", i, got[i].ID[:3], want[i].ID[:3])
		}
	}
	for k := range want {
		bt.Add(&want[k])
	}
	var first *window.FeatureWindow
	bt.Mark(0, 1<<41, func(b []window.FeatureWindow) {
		if first == nil {
			first = &b[0]
		}
	})
	if first != &bt.ready[0] {
		t.Fatal("windows that arrived in batch order were copied")
	}
}
