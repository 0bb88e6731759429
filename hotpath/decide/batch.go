package decide

import (
	"cmp"
	"slices"
	"strings"

	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
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
	sorted   []window.FeatureWindow // ready in batch order, when it was not already
	order    []int32                // indexes of ready, sorted
	byIndex  func(i, j int32) int   // b.compare on ready[i], ready[j]
	maxBatch int
	// Grown counts times the pending slab had to grow: the partitions ran
	// further apart than its initial capacity.
	Grown uint64
}

// NewBatcher returns a batcher for partitions partitions; capacity is the
// initial number of pending windows it holds without allocating.
func NewBatcher(syms *record.Symbols, partitions, maxBatch, capacity int) *Batcher {
	b := &Batcher{syms: syms, marks: make([]int64, partitions), maxBatch: max(1, maxBatch),
		pending: make([]window.FeatureWindow, 0, capacity), ready: make([]window.FeatureWindow, 0, capacity),
		sorted: make([]window.FeatureWindow, 0, capacity), order: make([]int32, 0, capacity)}
	b.byIndex = func(i, j int32) int {
		if c := b.compare(&b.ready[i], &b.ready[j]); c != 0 {
			return c
		}
		return cmp.Compare(i, j) // equal keys (one symbol's windows, so one partition's) keep their arrival order
	}
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
	ready := b.inOrder()
	for lo := 0; lo < len(ready); {
		hi := lo + 1
		for hi < len(ready) && hi-lo < b.maxBatch && ready[hi].End == ready[lo].End {
			hi++
		}
		route(ready[lo:hi])
		lo = hi
	}
}

// inOrder returns the ready windows in batch order (boundary, symbol name,
// start). It sorts their indexes, not the 240-byte windows (a by-value sort
// copies two windows into every comparison and moves them on every swap),
// and copies them once into that order unless they arrived in it.
func (b *Batcher) inOrder() []window.FeatureWindow {
	b.order = b.order[:0]
	for i := range b.ready {
		b.order = append(b.order, int32(i))
	}
	slices.SortFunc(b.order, b.byIndex)
	inPlace := true
	for k, i := range b.order {
		if int(i) != k {
			inPlace = false
			break
		}
	}
	if inPlace {
		return b.ready
	}
	b.sorted = b.sorted[:0]
	for _, i := range b.order {
		b.sorted = append(b.sorted, b.ready[i])
	}
	return b.sorted
}

// touch reads the slabs the next n windows of a batch go through (a
// warm-up, see Stage.Warm).
func (b *Batcher) touch(n int) byte {
	return ring.TouchLines(b.pending[:min(n, cap(b.pending))]) + ring.TouchLines(b.ready[:min(n, cap(b.ready))]) +
		ring.TouchLines(b.sorted[:min(n, cap(b.sorted))]) + ring.TouchLines(b.order[:min(n, cap(b.order))])
}

func (b *Batcher) compare(x, y *window.FeatureWindow) int {
	if c := cmp.Compare(x.End, y.End); c != 0 {
		return c
	}
	if c := strings.Compare(b.syms.Name(x.Symbol), b.syms.Name(y.Symbol)); c != 0 {
		return c
	}
	return cmp.Compare(x.Start, y.Start)
}
