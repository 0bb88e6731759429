package table

import (
	"math/rand/v2"
	"testing"
)

func TestNewErrors(t *testing.T) {
	for _, c := range []int{0, -1, 1<<30 + 1} {
		if _, err := New[int](c); err == nil {
			t.Errorf("New(%d): want error", c)
		}
	}
}

// TestAgainstMap runs random operations against a Go map as the model.
func TestAgainstMap(t *testing.T) {
	for _, capacity := range []int{1, 7, 64, 1000} {
		tb, err := New[uint64](capacity)
		if err != nil {
			t.Fatal(err)
		}
		model := map[uint64]uint64{}
		rng := rand.New(rand.NewPCG(1, uint64(capacity)))
		keySpace := uint64(capacity * 2)
		for op := 0; op < 200_000; op++ {
			k := rng.Uint64N(keySpace)
			switch rng.IntN(3) {
			case 0:
				v := rng.Uint64()
				_, had := model[k]
				ok := tb.Put(k, v)
				if !had && len(model) >= capacity {
					if ok {
						t.Fatalf("cap %d: Put into full table succeeded", capacity)
					}
					continue
				}
				if !ok {
					t.Fatalf("cap %d: Put failed with %d entries", capacity, len(model))
				}
				model[k] = v
			case 1:
				_, had := model[k]
				if tb.Delete(k) != had {
					t.Fatalf("cap %d: Delete(%d) disagrees with model", capacity, k)
				}
				delete(model, k)
			case 2:
				p := tb.Get(k)
				v, had := model[k]
				if (p != nil) != had || (had && *p != v) {
					t.Fatalf("cap %d: Get(%d) = %v, model %d %v", capacity, k, p, v, had)
				}
			}
			if tb.Len() != len(model) {
				t.Fatalf("cap %d: Len %d, model %d", capacity, tb.Len(), len(model))
			}
		}
		for k, v := range model {
			if p := tb.Get(k); p == nil || *p != v {
				t.Fatalf("cap %d: final Get(%d) mismatch", capacity, k)
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	tb, _ := New[[4]uint64](1024)
	k := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		k++
		tb.Put(k, [4]uint64{k})
		_ = tb.Get(k)
		tb.Delete(k)
	})
	if allocs != 0 {
		t.Fatalf("allocs per op = %v", allocs)
	}
}

func BenchmarkPutGetDelete(b *testing.B) {
	tb, _ := New[[4]uint64](1 << 16)
	for i := range uint64(1 << 15) {
		tb.Put(i*7919, [4]uint64{i})
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := uint64(i)<<20 | 1
		tb.Put(k, [4]uint64{k})
		_ = tb.Get(k)
		tb.Delete(k)
	}
}

func BenchmarkGoMap(b *testing.B) {
	m := make(map[uint64][4]uint64, 1<<16)
	for i := range uint64(1 << 15) {
		m[i*7919] = [4]uint64{i}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := uint64(i)<<20 | 1
		m[k] = [4]uint64{k}
		_ = m[k]
		delete(m, k)
	}
}

func TestSweep(t *testing.T) {
	tb, _ := New[uint64](500)
	for k := uint64(0); k < 500; k++ {
		tb.Put(k*31, k)
	}
	n := tb.Sweep(func(_ uint64, v *uint64) bool { return *v%3 != 0 })
	if n != 167 || tb.Len() != 333 {
		t.Fatalf("deleted %d, len %d", n, tb.Len())
	}
	for k := uint64(0); k < 500; k++ {
		p := tb.Get(k * 31)
		if (p != nil) != (k%3 != 0) {
			t.Fatalf("key %d: present %v", k, p != nil)
		}
	}
}
