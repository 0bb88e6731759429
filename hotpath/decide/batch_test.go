package decide

import (
	"math/rand/v2"
	"testing"

	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
)

// TestBatchesIndependentOfPartitions: the same windows, spread over 1 or 3
// partitions and arriving in different interleavings, give the same batches.
func TestBatchesIndependentOfPartitions(t *testing.T) {
	syms := record.NewSymbols()
	for _, n := range []string{"C", "A", "B", "E", "D"} {
		syms.Intern(n)
	}
	type ev struct {
		sym   uint32
		start int64
		end   int64
	}
	var evs []ev
	for k := int64(0); k < 40; k++ {
		for s := uint32(1); s <= 5; s++ {
			if (int64(s)+k)%4 != 0 { // some symbols skip some windows
				evs = append(evs, ev{s, k * 10, k*10 + 20})
			}
		}
	}
	run := func(parts int, seed uint64) []string {
		b := NewBatcher(syms, parts, 3, 8)
		var out []string
		route := func(batch []window.FeatureWindow) {
			s := ""
			for _, w := range batch {
				s += syms.Name(w.Symbol) + ":" + string(rune('0'+w.End/10%10)) + " "
				if w.End != batch[0].End {
					t.Fatalf("batch mixes boundaries")
				}
			}
			out = append(out, s)
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		// Each partition emits its symbols' windows in end order, then a mark;
		// partitions interleave randomly.
		queues := make([][]ev, parts)
		for _, e := range evs {
			queues[int(e.sym)%parts] = append(queues[int(e.sym)%parts], e)
		}
		for {
			live := []int{}
			for p := range queues {
				if len(queues[p]) > 0 {
					live = append(live, p)
				}
			}
			if len(live) == 0 {
				break
			}
			p := live[rng.IntN(len(live))]
			e := queues[p][0]
			queues[p] = queues[p][1:]
			b.Add(&window.FeatureWindow{Symbol: e.sym, Start: e.start, End: e.end})
			if len(queues[p]) == 0 || queues[p][0].end != e.end {
				b.Mark(p, e.end, route)
			}
		}
		for p := 0; p < parts; p++ {
			b.Mark(p, 1<<62, route)
		}
		if b.Pending() != 0 {
			t.Fatalf("%d windows left pending", b.Pending())
		}
		return out
	}
	want := run(1, 1)
	if len(want) == 0 || want[0] != "A:2 B:2 C:2 " {
		t.Fatalf("first batch %q", want)
	}
	for _, parts := range []int{2, 3, 5} {
		for seed := uint64(0); seed < 5; seed++ {
			got := run(parts, seed)
			if len(got) != len(want) {
				t.Fatalf("%d partitions seed %d: %d batches, want %d", parts, seed, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%d partitions seed %d: batch %d %q, want %q", parts, seed, i, got[i], want[i])
				}
			}
		}
	}
}

func TestBatcherNoAllocs(t *testing.T) {
	syms := record.NewSymbols()
	syms.Intern("A")
	syms.Intern("B")
	b := NewBatcher(syms, 2, 256, 1024)
	end := int64(0)
	route := func([]window.FeatureWindow) {}
	a := testing.AllocsPerRun(1000, func() {
		end += 10
		b.Add(&window.FeatureWindow{Symbol: 1, End: end})
		b.Add(&window.FeatureWindow{Symbol: 2, End: end})
		b.Mark(0, end, route)
		b.Mark(1, end, route)
	})
	if a != 0 {
		t.Fatalf("allocs %v", a)
	}
}
