package ring

import "sync/atomic"

// SPSC is a bounded lock-free ring for exactly one producer goroutine and
// exactly one consumer goroutine. Push and PushBatch may be called only by the
// producer, Pop and PopBatch only by the consumer; Len and Cap by anyone.
//
// Layout: the consumer's line holds head and tailCache, the producer's line
// holds tail and headCache, and the read-only fields sit on a third line. Each
// side reads the other side's index only through its cached copy, reloading
// the atomic when the copy says the ring is full (producer) or empty
// (consumer); in steady state each side writes only its own line.
type SPSC[T any] struct {
	_ [cacheLine]byte // keep head off whatever the allocator put before us

	// Consumer line.
	head      atomic.Uint64 // next index to read; stored by the consumer only
	tailCache uint64        // consumer's copy of tail, refreshed when empty
	_         [cacheLine - 16]byte

	// Producer line.
	tail      atomic.Uint64 // next index to write; stored by the producer only
	headCache uint64        // producer's copy of head, refreshed when full
	_         [cacheLine - 16]byte

	// Read-only after construction.
	mask  uint64
	size  uint64
	slots []T
	clear bool
	_     [cacheLine - 48]byte
}

// NewSPSC returns an empty ring of capacity slots, allocated once. capacity
// must be a power of two of at least 2; otherwise the error wraps ErrCapacity
// and names the value.
func NewSPSC[T any](capacity int) (*SPSC[T], error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	r := &SPSC[T]{
		mask:  uint64(capacity - 1),
		size:  uint64(capacity),
		slots: make([]T, capacity),
		clear: needsClear[T](),
	}
	prefault(r.slots)
	return r, nil
}

// Push copies *v into the ring and reports true, or reports false without
// copying when the ring is full. It never blocks. Producer only.
func (r *SPSC[T]) Push(v *T) bool {
	t := r.tail.Load()
	if t-r.headCache >= r.size {
		r.headCache = r.head.Load()
		if t-r.headCache >= r.size {
			return false
		}
	}
	r.slots[t&r.mask] = *v
	publish(&r.tail, t+1) // publishes the slot
	return true
}

// PushBatch copies as many leading elements of vs as fit and returns how many
// it copied (0 when the ring is full or vs is empty). The batch is published
// with one release store. Producer only.
func (r *SPSC[T]) PushBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	t := r.tail.Load()
	free := r.size - (t - r.headCache)
	if free < uint64(len(vs)) {
		r.headCache = r.head.Load()
		free = r.size - (t - r.headCache)
		if free == 0 {
			return 0
		}
	}
	n := min(uint64(len(vs)), free)
	i := t & r.mask
	c := copy(r.slots[i:], vs[:n]) // up to the end of the slab
	copy(r.slots, vs[c:n])         // the rest wraps to the start
	publish(&r.tail, t+n)
	return int(n)
}

// Pop moves the oldest value into *dst and reports true, or reports false
// without touching *dst when the ring is empty. It never blocks. Consumer only.
func (r *SPSC[T]) Pop(dst *T) bool {
	h := r.head.Load()
	if h == r.tailCache {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			return false
		}
	}
	i := h & r.mask
	*dst = r.slots[i]
	if r.clear {
		var zero T
		r.slots[i] = zero
	}
	publish(&r.head, h+1) // hands the slot back to the producer
	return true
}

// Peek returns the oldest value without taking it, or nil when the ring is
// empty. The pointer is good until the next Pop or PopBatch. Consumer only.
func (r *SPSC[T]) Peek() *T {
	h := r.head.Load()
	if h == r.tailCache {
		r.tailCache = r.tail.Load()
		if h == r.tailCache {
			return nil
		}
	}
	return &r.slots[h&r.mask]
}

// PopBatch moves up to len(dst) of the oldest values into dst, oldest first,
// and returns how many it moved (0 when the ring is empty). The whole batch is
// taken and handed back with one release store, so a consumer that recycles dst
// pays one synchronisation per batch. Consumer only.
func (r *SPSC[T]) PopBatch(dst []T) int {
	if len(dst) == 0 {
		return 0
	}
	h := r.head.Load()
	avail := r.tailCache - h
	if avail < uint64(len(dst)) {
		r.tailCache = r.tail.Load()
		avail = r.tailCache - h
		if avail == 0 {
			return 0
		}
	}
	n := min(uint64(len(dst)), avail)
	i := h & r.mask
	c := copy(dst[:n], r.slots[i:])
	copy(dst[c:n], r.slots)
	if r.clear {
		clear(r.slots[i : i+uint64(c)])
		clear(r.slots[:n-uint64(c)])
	}
	publish(&r.head, h+n)
	return int(n)
}

// Len returns the number of values in the ring. Called from a goroutine other
// than the producer and the consumer it is a snapshot, already stale when it
// returns, but always within [0, Cap()].
func (r *SPSC[T]) Len() int {
	h := r.head.Load() // head first: tail loaded later is >= this head
	t := r.tail.Load()
	return int(min(t-h, r.size))
}

// Cap returns the number of slots.
func (r *SPSC[T]) Cap() int { return int(r.size) }

// Touch reads the n slots after the last one written (the next ones the
// producer writes, wrapping around the ring) into the cache, for a warm-up
// while the producer waits; it changes nothing. Call it only from the
// ring's producer.
func (r *SPSC[T]) Touch(n int) byte {
	return touchAhead(r.slots, r.tail.Load(), r.mask, n)
}
