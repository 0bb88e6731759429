package ring

import "sync/atomic"

// MPSC is a bounded ring for any number of producer goroutines and exactly one
// consumer goroutine (fan-in). Push and PushBatch may be called by any
// goroutine, Pop and PopBatch only by the consumer; Len and Cap by anyone.
//
// Producers claim positions with a compare-and-swap on tail (lock-free: a
// failed CAS means another producer progressed), write their slot, then
// publish it with a release store of the slot's sequence number, position+1.
// The consumer takes slots strictly in claim order and only once published, so
// a producer that is descheduled between its claim and its publish holds up
// the consumer (Pop reports empty) until it resumes; it never corrupts or
// reorders anything. The consumer hands slots back with one release store of
// head per Pop or PopBatch. Producers check fullness against headCache, a
// lower bound of head kept on their own cache line and refreshed from head
// only when the ring looks full, so in steady state they do not pull the
// consumer's line on every Push. This is Vyukov's bounded queue with the
// per-slot "free" sequence replaced by the (cached) head, which saves the
// consumer one store per slot.
type MPSC[T any] struct {
	_ [cacheLine]byte

	// Consumer line.
	head atomic.Uint64 // next position to read; stored by the consumer only
	_    [cacheLine - 8]byte

	// Producer line (contended by producers' CAS).
	tail      atomic.Uint64 // next position to claim
	headCache atomic.Uint64 // lower bound of head, refreshed by producers when full
	_         [cacheLine - 16]byte

	// Read-only after construction.
	mask  uint64
	size  uint64
	slots []mpscSlot[T]
	clear bool
	_     [cacheLine - 48]byte
}

type mpscSlot[T any] struct {
	seq atomic.Uint64 // position+1 once the value for position is written
	val T
}

// NewMPSC returns an empty ring of capacity slots, allocated once. capacity
// must be a power of two of at least 2; otherwise the error wraps ErrCapacity
// and names the value.
func NewMPSC[T any](capacity int) (*MPSC[T], error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	// Sequences start at zero; the first position of slot i is i, published
	// as i+1, so a fresh slot never reads as published.
	r := &MPSC[T]{
		mask:  uint64(capacity - 1),
		size:  uint64(capacity),
		slots: make([]mpscSlot[T], capacity),
		clear: needsClear[T](),
	}
	prefault(r.slots)
	return r, nil
}

// Push copies *v into the ring and reports true, or reports false without
// copying when the ring is full (claimed but not yet published slots count as
// full). It never blocks. Any goroutine.
func (r *MPSC[T]) Push(v *T) bool {
	var pos uint64
	for {
		pos = r.tail.Load()
		used, ok := r.used(pos, 1)
		if !ok {
			continue // pos went stale while we looked: tail has moved on
		}
		if used >= r.size {
			return false
		}
		if r.tail.CompareAndSwap(pos, pos+1) {
			break
		}
	}
	s := &r.slots[pos&r.mask]
	s.val = *v
	publish(&s.seq, pos+1) // publishes the slot
	return true
}

// PushBatch copies as many leading elements of vs as fit, claiming their
// positions with one compare-and-swap so they stay contiguous and in order,
// and returns how many it copied (0 when the ring is full or vs is empty).
// Any goroutine.
func (r *MPSC[T]) PushBatch(vs []T) int {
	if len(vs) == 0 {
		return 0
	}
	var pos, n uint64
	for {
		pos = r.tail.Load()
		used, ok := r.used(pos, uint64(len(vs)))
		if !ok {
			continue
		}
		if used >= r.size {
			return 0
		}
		n = min(uint64(len(vs)), r.size-used)
		if r.tail.CompareAndSwap(pos, pos+n) {
			break
		}
	}
	for k := range n {
		s := &r.slots[(pos+k)&r.mask]
		s.val = vs[k]
		publish(&s.seq, pos+k+1)
	}
	return int(n)
}

// used returns how many positions below pos the consumer has not handed back
// yet, reading head through headCache and refreshing headCache from head only
// when the cached value leaves less than need free slots. ok is false when
// pos, a tail value loaded earlier, is already below head: tail has moved on
// and the caller must reload it. After a refresh, used >= size means the ring
// was full at the moment head was loaded.
func (r *MPSC[T]) used(pos, need uint64) (used uint64, ok bool) {
	used = pos - r.headCache.Load()
	if int64(used) < 0 {
		return 0, false
	}
	if used+need <= r.size {
		return used, true
	}
	h := r.head.Load()
	r.headCache.Store(h)
	used = pos - h
	return used, int64(used) >= 0
}

// Pop moves the oldest value into *dst and reports true, or reports false
// without touching *dst when the oldest position is not yet published (the
// ring is empty or its oldest producer has not finished writing). It never
// blocks. Consumer only.
func (r *MPSC[T]) Pop(dst *T) bool {
	h := r.head.Load()
	s := &r.slots[h&r.mask]
	if s.seq.Load() != h+1 {
		return false
	}
	*dst = s.val
	if r.clear {
		var zero T
		s.val = zero
	}
	publish(&r.head, h+1) // hands the slot back to the producers
	return true
}

// PopBatch moves up to len(dst) of the oldest published values into dst, in
// order, stopping at the first unpublished position, and returns how many it
// moved. The batch is handed back with one atomic store. Consumer only.
func (r *MPSC[T]) PopBatch(dst []T) int {
	h := r.head.Load()
	n := 0
	for n < len(dst) {
		p := h + uint64(n)
		s := &r.slots[p&r.mask]
		if s.seq.Load() != p+1 {
			break
		}
		dst[n] = s.val
		if r.clear {
			var zero T
			s.val = zero
		}
		n++
	}
	if n > 0 {
		publish(&r.head, h+uint64(n))
	}
	return n
}

// Len returns the number of claimed positions not yet consumed, including
// positions whose producer is still writing. It is a snapshot within
// [0, Cap()].
func (r *MPSC[T]) Len() int {
	h := r.head.Load()
	t := r.tail.Load()
	return int(min(t-h, r.size))
}

// Cap returns the number of slots.
func (r *MPSC[T]) Cap() int { return int(r.size) }

// Touch reads the n slots after the last one written (the next ones the
// producer writes, wrapping around the ring) into the cache, for a warm-up
// while the producer waits; it changes nothing. Call it only from the
// ring's only producer: another producer may be writing them.
func (r *MPSC[T]) Touch(n int) byte {
	return touchAhead(r.slots, r.tail.Load(), r.mask, n)
}
