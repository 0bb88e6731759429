package decide

import (
	"cmp"
	"slices"
	"strings"

	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
)

// Batcher gathers closed windows from every partition and cuts them into
// routing batches: every window that closes at the same boundary (its end,
// in event time), across partitions, in (symbol name, start) order, cut
// further into batches of at most MaxBatch. A boundary is released only
// when every partition has reported a watermark at or past it, so a replay
// forms exactly the batches of the live run whatever the number of
// partitions or cores.
//
// Not safe for concurrent use: it runs on the decision stage's goroutine.
type Batcher struct {
	syms     *record.Symbols
	marks    []int64 // per partition: every window ending at or before it has arrived
	pending  []window.FeatureWindow
	ready    []window.FeatureWindow
	maxBatch int
	// Grown counts times the pending slab had to grow: the partitions ran
	// further apart than its initial capacity.
	Grown uint64
}

// NewBatcher returns a batcher for partitions partitions; capacity is the
// initial number of pending windows it holds without allocating.
func NewBatcher(syms *record.Symbols, partitions, maxBatch, capacity int) *Batcher {
	b := &Batcher{syms: syms, marks: make([]int64, partitions), maxBatch: max(1, maxBatch),
		pending: make([]window.FeatureWindow, 0, capacity), ready: make([]window.FeatureWindow, 0, capacity)}
	for i := range b.marks {
		b.marks[i] = -1 << 63
	}
	return b
}

// Add holds a closed window until its boundary is complete.
func (b *Batcher) Add(w *window.FeatureWindow) {
	if len(b.pending) == cap(b.pending) {
		b.Grown++
	}
	b.pending = append(b.pending, *w)
}

// Pending returns the number of windows held.
func (b *Batcher) Pending() int { return len(b.pending) }

// Mark records that partition part has emitted every window ending at or
// before mark, and calls route for each batch that is now complete, in
// boundary order. The batch slice is valid only during the call.
func (b *Batcher) Mark(part int, mark int64, route func(batch []window.FeatureWindow)) {
	if mark <= b.marks[part] {
		return
	}
	b.marks[part] = mark
	done := slices.Min(b.marks)
	b.release(done, route)
}

func (b *Batcher) release(done int64, route func(batch []window.FeatureWindow)) {
	b.ready = b.ready[:0]
	kept := b.pending[:0]
	for i := range b.pending {
		if b.pending[i].End <= done {
			b.ready = append(b.ready, b.pending[i])
		} else {
			kept = append(kept, b.pending[i])
		}
	}
	b.pending = kept
	if len(b.ready) == 0 {
		return
	}
	slices.SortFunc(b.ready, b.compare)
	for lo := 0; lo < len(b.ready); {
		hi := lo + 1
		for hi < len(b.ready) && hi-lo < b.maxBatch && b.ready[hi].End == b.ready[lo].End {
			hi++
		}
		route(b.ready[lo:hi])
		lo = hi
	}
}

func (b *Batcher) compare(x, y window.FeatureWindow) int {
	if c := cmp.Compare(x.End, y.End); c != 0 {
		return c
	}
	if c := strings.Compare(b.syms.Name(x.Symbol), b.syms.Name(y.Symbol)); c != 0 {
		return c
	}
	return cmp.Compare(x.Start, y.Start)
}
