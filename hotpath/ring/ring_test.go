package ring

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"thunderline/hotpath/record"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		capacity int
		ok       bool
	}{
		{-8, false},
		{-1, false},
		{0, false},
		{1, false},
		{2, true},
		{3, false},
		{4, true},
		{6, false},
		{1000, false},
		{1024, true},
		{1<<16 + 1, false},
		{1 << 16, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.capacity), func(t *testing.T) {
			check := func(kind string, cp int, err error) {
				t.Helper()
				if tc.ok {
					if err != nil {
						t.Fatalf("%s(%d): unexpected error %v", kind, tc.capacity, err)
					}
					if cp != tc.capacity {
						t.Fatalf("%s(%d).Cap() = %d", kind, tc.capacity, cp)
					}
					return
				}
				if err == nil {
					t.Fatalf("%s(%d): no error", kind, tc.capacity)
				}
				if !errors.Is(err, ErrCapacity) {
					t.Errorf("%s(%d): error %v does not wrap ErrCapacity", kind, tc.capacity, err)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(tc.capacity)) {
					t.Errorf("%s(%d): error %q does not name the value", kind, tc.capacity, err)
				}
			}
			s, err := NewSPSC[record.MarketTick](tc.capacity)
			cp := 0
			if s != nil {
				cp = s.Cap()
			}
			check("NewSPSC", cp, err)
			m, err := NewMPSC[record.MarketTick](tc.capacity)
			cp = 0
			if m != nil {
				cp = m.Cap()
			}
			check("NewMPSC", cp, err)
		})
	}
}

// TestLayout checks that the indexes written by different goroutines live on
// different cache lines, and away from the read-only fields.
func TestLayout(t *testing.T) {
	var s SPSC[record.MarketTick]
	var m MPSC[record.MarketTick]
	f := func(name string, offs ...uintptr) {
		t.Helper()
		if offs[0] < cacheLine {
			t.Errorf("%s: first index at offset %d shares a line with the previous object", name, offs[0])
		}
		for i := 1; i < len(offs); i++ {
			if offs[i]-offs[i-1] < cacheLine {
				t.Errorf("%s: fields at offsets %d and %d are closer than a cache line", name, offs[i-1], offs[i])
			}
		}
	}
	f("SPSC", unsafe.Offsetof(s.head), unsafe.Offsetof(s.tail), unsafe.Offsetof(s.mask), unsafe.Sizeof(s))
	f("MPSC", unsafe.Offsetof(m.head), unsafe.Offsetof(m.tail), unsafe.Offsetof(m.mask), unsafe.Sizeof(m))
	if d := unsafe.Offsetof(s.tailCache) - unsafe.Offsetof(s.head); d >= cacheLine {
		t.Errorf("SPSC: tailCache is not on the consumer's line (distance %d)", d)
	}
	if d := unsafe.Offsetof(s.headCache) - unsafe.Offsetof(s.tail); d >= cacheLine {
		t.Errorf("SPSC: headCache is not on the producer's line (distance %d)", d)
	}
	if d := unsafe.Offsetof(m.headCache) - unsafe.Offsetof(m.tail); d >= cacheLine {
		t.Errorf("MPSC: headCache is not on the producers' line (distance %d)", d)
	}
	if sz := unsafe.Sizeof(s); sz%cacheLine != 0 {
		t.Errorf("SPSC size %d is not a multiple of a cache line", sz)
	}
	if sz := unsafe.Sizeof(m); sz%cacheLine != 0 {
		t.Errorf("MPSC size %d is not a multiple of a cache line", sz)
	}
}

// TestPublish checks the assumption publish makes on amd64 (an atomic.Uint64
// is one uint64 word) and that a published value is what Load returns.
func TestPublish(t *testing.T) {
	if sz := unsafe.Sizeof(atomic.Uint64{}); sz != 8 {
		t.Fatalf("atomic.Uint64 is %d bytes, publish assumes 8", sz)
	}
	var a [3]atomic.Uint64
	for _, v := range []uint64{1, 0, 1 << 63, ^uint64(0), 0x0123456789abcdef} {
		publish(&a[1], v)
		if got := a[1].Load(); got != v {
			t.Fatalf("publish(%#x): Load = %#x", v, got)
		}
		if a[0].Load() != 0 || a[2].Load() != 0 {
			t.Fatalf("publish(%#x) wrote outside its word", v)
		}
	}
}

func TestHasPointers(t *testing.T) {
	type flat struct {
		A int64
		B [3]uint8
	}
	type nested struct {
		F flat
		P [2]*int
	}
	tests := []struct {
		v    any
		want bool
	}{
		{int64(0), false},
		{record.MarketTick{}, false},
		{flat{}, false},
		{[0]*int{}, false},
		{[4]flat{}, false},
		{"", true},
		{[]byte(nil), true},
		{(*int)(nil), true},
		{nested{}, true},
		{struct{ E error }{}, true},
	}
	for _, tc := range tests {
		if got := hasPointers(reflect.TypeOf(tc.v)); got != tc.want {
			t.Errorf("hasPointers(%T) = %v, want %v", tc.v, got, tc.want)
		}
	}
}

// runLaps pushes and pops through r for many laps with batch sizes that do
// not divide the capacity, checking order and content at every step.
func runLaps(t *testing.T, r fifo[record.MarketTick], laps int) {
	t.Helper()
	capacity := r.Cap()
	in := make([]record.MarketTick, capacity+3)
	out := make([]record.MarketTick, capacity+3)
	var next, want uint64
	total := uint64(laps * capacity)
	for step := 0; want < total; step++ {
		// Alternate single and batch operations with sizes 1..capacity+3.
		k := step%(capacity+3) + 1
		if step%2 == 0 {
			if !r.Push(ptr(mkTick(1, next))) {
				if r.Len() != capacity {
					t.Fatalf("Push refused with Len %d of %d", r.Len(), capacity)
				}
			} else {
				next++
			}
		} else {
			for i := range k {
				in[i] = mkTick(1, next+uint64(i))
			}
			free := capacity - r.Len()
			n := r.PushBatch(in[:k])
			if n != min(k, free) {
				t.Fatalf("PushBatch(%d) with %d free = %d", k, free, n)
			}
			next += uint64(n)
		}
		if r.Len() != int(next-want) {
			t.Fatalf("Len = %d, want %d", r.Len(), next-want)
		}
		k = (step*7)%(capacity+3) + 1
		var n int
		if step%3 == 0 {
			if r.Pop(&out[0]) {
				n = 1
			}
		} else {
			n = r.PopBatch(out[:k])
			if held := int(next - want); n != min(k, held) {
				t.Fatalf("PopBatch(%d) with %d held = %d", k, held, n)
			}
		}
		want = expectSeq(t, out[:n], want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestWraparound(t *testing.T) {
	for _, capacity := range []int{2, 4, 8, 64} {
		for _, base := range []uint64{0, nearWrap} {
			for _, kind := range []string{"SPSC", "MPSC"} {
				t.Run(fmt.Sprintf("%s/cap=%d/base=%d", kind, capacity, base), func(t *testing.T) {
					r, err := newRingAt(kind, capacity, base)
					if err != nil {
						t.Fatal(err)
					}
					runLaps(t, r, 1000)
				})
			}
		}
	}
}

// TestFullAndEmpty checks the edges: Pop on empty and Push on full refuse
// without touching their argument, and nothing is dropped.
func TestFullAndEmpty(t *testing.T) {
	s, _ := NewSPSC[record.MarketTick](4)
	m, _ := NewMPSC[record.MarketTick](4)
	for name, r := range map[string]fifo[record.MarketTick]{"SPSC": s, "MPSC": m} {
		t.Run(name, func(t *testing.T) {
			sentinel := mkTick(9, 999)
			dst := sentinel
			if r.Pop(&dst) || dst != sentinel {
				t.Fatalf("Pop on empty: got true or changed dst")
			}
			if n := r.PopBatch(make([]record.MarketTick, 3)); n != 0 {
				t.Fatalf("PopBatch on empty = %d", n)
			}
			if n := r.PushBatch(nil); n != 0 {
				t.Fatalf("PushBatch(nil) = %d", n)
			}
			for i := range 4 {
				if !r.Push(ptr(mkTick(1, uint64(i)))) {
					t.Fatalf("Push %d refused", i)
				}
			}
			if r.Push(ptr(mkTick(1, 4))) {
				t.Fatal("Push on full accepted")
			}
			if n := r.PushBatch([]record.MarketTick{mkTick(1, 4)}); n != 0 {
				t.Fatalf("PushBatch on full = %d", n)
			}
			if r.Len() != 4 {
				t.Fatalf("Len = %d, want 4", r.Len())
			}
			out := make([]record.MarketTick, 8)
			if n := r.PopBatch(out); n != 4 {
				t.Fatalf("PopBatch = %d, want 4", n)
			}
			for i := range 4 {
				if out[i] != mkTick(1, uint64(i)) {
					t.Fatalf("out[%d] = %+v", i, out[i])
				}
			}
			if r.Len() != 0 {
				t.Fatalf("Len after drain = %d", r.Len())
			}
		})
	}
}

// TestClearsPointers checks that a consumed slot of a pointer-holding type is
// zeroed, so the ring does not keep garbage alive, whichever way it is popped.
func TestClearsPointers(t *testing.T) {
	type boxed struct {
		n int
		p *int
	}
	s, _ := NewSPSC[boxed](4)
	m, _ := NewMPSC[boxed](4)
	x := 7
	in := []boxed{{1, &x}, {2, &x}, {3, &x}}
	out := make([]boxed, 4)

	startSPSCAt(s, 2) // make the batch wrap the slab
	if s.PushBatch(in) != 3 || !s.Pop(&out[0]) || s.PopBatch(out[1:]) != 2 {
		t.Fatal("SPSC push/pop failed")
	}
	for i, v := range s.slots {
		if v != (boxed{}) {
			t.Errorf("SPSC slot %d not cleared: %+v", i, v)
		}
	}
	startMPSCAt(m, 2)
	if m.PushBatch(in) != 3 || !m.Pop(&out[0]) || m.PopBatch(out[1:]) != 2 {
		t.Fatal("MPSC push/pop failed")
	}
	for i := range m.slots {
		if v := m.slots[i].val; v != (boxed{}) {
			t.Errorf("MPSC slot %d not cleared: %+v", i, v)
		}
	}
	for i := range 3 {
		if out[i] != in[i] {
			t.Errorf("out[%d] = %+v, want %+v", i, out[i], in[i])
		}
	}
}

func TestAllocs(t *testing.T) {
	s, _ := NewSPSC[record.MarketTick](64)
	m, _ := NewMPSC[record.MarketTick](64)
	tick := mkTick(1, 1)
	batch := make([]record.MarketTick, 16)
	for name, r := range map[string]fifo[record.MarketTick]{"SPSC": s, "MPSC": m} {
		ops := []struct {
			name string
			fn   func()
		}{
			{"Push+Pop", func() {
				if !r.Push(&tick) || !r.Pop(&tick) {
					t.Fatal("Push/Pop failed")
				}
			}},
			{"PushBatch+PopBatch", func() {
				if r.PushBatch(batch) != len(batch) || r.PopBatch(batch) != len(batch) {
					t.Fatal("batch failed")
				}
			}},
			{"Pop empty", func() { r.Pop(&tick) }},
			{"Len", func() { _ = r.Len() }},
		}
		for _, op := range ops {
			if a := testing.AllocsPerRun(1000, op.fn); a != 0 {
				t.Errorf("%s %s: %v allocs per run, want 0", name, op.name, a)
			}
		}
	}
	// Full ring: refusals allocate nothing either.
	for s.Push(&tick) {
	}
	for m.Push(&tick) {
	}
	if a := testing.AllocsPerRun(1000, func() { s.Push(&tick); s.PushBatch(batch); m.Push(&tick); m.PushBatch(batch) }); a != 0 {
		t.Errorf("push on full: %v allocs per run, want 0", a)
	}
}
