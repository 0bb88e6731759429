package table

import "fmt"

type slot[V any] struct {
	key  uint64
	used bool
	val  V
}

// Table maps uint64 keys to V. Not safe for concurrent use.
type Table[V any] struct {
	slots []slot[V]
	mask  uint64
	n     int
	limit int // at most this many entries (load factor 7/8)
}

// New returns a table holding up to capacity entries. The slot array is
// the next power of two at or above capacity*8/7.
func New[V any](capacity int) (*Table[V], error) {
	if capacity < 1 || capacity > 1<<30 {
		return nil, fmt.Errorf("table capacity %d: must be between 1 and 2^30", capacity)
	}
	size := 2
	for size*7/8 < capacity {
		size <<= 1
	}
	return &Table[V]{slots: make([]slot[V], size), mask: uint64(size - 1), limit: capacity}, nil
}

// hash is a 64-bit mix (the splitmix64 finalizer): ids that arrive in
// sequence spread across the table.
func hash(k uint64) uint64 {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	k ^= k >> 31
	return k
}

// Len returns the number of entries.
func (t *Table[V]) Len() int { return t.n }

// Cap returns the most entries the table holds.
func (t *Table[V]) Cap() int { return t.limit }

// find is the slot of key, found, or else the empty slot that ends its
// probe run (where it would go).
func (t *Table[V]) find(key uint64) (i uint64, found bool) {
	i = hash(key) & t.mask
	for {
		s := &t.slots[i]
		if !s.used {
			return i, false
		}
		if s.key == key {
			return i, true
		}
		i = (i + 1) & t.mask
	}
}

// Get returns a pointer to the value of key, or nil. The pointer is valid
// until the next Put or Delete.
func (t *Table[V]) Get(key uint64) *V {
	i, found := t.find(key)
	if !found {
		return nil
	}
	return &t.slots[i].val
}

// Put sets key to val. It reports false, changing nothing, when key is new
// and the table is full.
func (t *Table[V]) Put(key uint64, val V) bool {
	i, found := t.find(key)
	s := &t.slots[i]
	if found {
		s.val = val
		return true
	}
	if t.n >= t.limit {
		return false
	}
	s.used, s.key, s.val = true, key, val
	t.n++
	return true
}

// Delete removes key and reports whether it was there.
func (t *Table[V]) Delete(key uint64) bool {
	i, found := t.find(key)
	if !found {
		return false
	}
	// Backward-shift: move later entries of the probe run into the hole when
	// their home slot is at or before it.
	var zero slot[V]
	for {
		t.slots[i] = zero
		j := i
		for {
			j = (j + 1) & t.mask
			s := &t.slots[j]
			if !s.used {
				t.n--
				return true
			}
			home := hash(s.key) & t.mask
			// s may move into the hole at i when home is not in (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j)) {
				t.slots[i] = *s
				i = j
				break
			}
		}
	}
}

// Reset removes every entry.
func (t *Table[V]) Reset() {
	clear(t.slots)
	t.n = 0
}

// Sweep deletes every entry for which keep returns false. It walks the whole
// slot array, so it is for rare events (a book clear), not per tick.
func (t *Table[V]) Sweep(keep func(key uint64, v *V) bool) (deleted int) {
	for i := 0; i < len(t.slots); {
		s := &t.slots[i]
		if s.used && !keep(s.key, &s.val) {
			// Backward shift may move a not yet visited entry into slot i:
			// look at i again. Entries shifted from the wrapped start were
			// already visited and kept; keep is asked again, which is harmless.
			t.Delete(s.key)
			deleted++
			continue
		}
		i++
	}
	return deleted
}
