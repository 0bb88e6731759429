package ring

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"thunderline/hotpath/record"
)

// stressItems is how many ticks each stress test moves, scaled down under the
// race detector and -short so the package's tests stay well under 20 s with
// -race on two cores.
func stressItems() uint64 {
	switch {
	case raceEnabled && testing.Short():
		return 1 << 18
	case raceEnabled, testing.Short():
		return 1 << 20
	default:
		return 4 << 20
	}
}

const stressDeadline = 60 * time.Second

// The stress loops wait with runtime.Gosched, not Backoff: on a small ring
// Backoff's sleeps (0.5 ms or more on a loaded VM, whatever is asked) would
// turn into most of the run time.

// TestSPSCStress runs one producer and one consumer through an 8-slot ring,
// each mixing single and batch operations of random sizes, and checks that
// every tick arrives once, in order, and intact.
func TestSPSCStress(t *testing.T) {
	r, err := NewSPSC[record.MarketTick](16)
	if err != nil {
		t.Fatal(err)
	}
	total := stressItems()
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(1, 2))
		batch := make([]record.MarketTick, 13)
		for next := uint64(0); next < total; {
			if stop.Load() {
				return
			}
			if rng.IntN(2) == 0 {
				tick := mkTick(0, next)
				if r.Push(&tick) {
					next++
				} else {
					runtime.Gosched()
				}
				continue
			}
			k := min(uint64(rng.IntN(len(batch))+1), total-next)
			for i := range k {
				batch[i] = mkTick(0, next+i)
			}
			if n := r.PushBatch(batch[:k]); n > 0 {
				next += uint64(n)
			} else {
				runtime.Gosched()
			}
		}
	})
	defer wg.Wait()
	defer stop.Store(true) // releases the producer if the consumer fails

	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]record.MarketTick, 11)
	deadline := time.Now().Add(stressDeadline)
	for want := uint64(0); want < total; {
		var n int
		if rng.IntN(2) == 0 {
			if r.Pop(&out[0]) {
				n = 1
			}
		} else {
			n = r.PopBatch(out[:rng.IntN(len(out))+1])
		}
		if n == 0 {
			if runtime.Gosched(); time.Now().After(deadline) {
				t.Fatalf("timed out: received %d of %d", want, total)
			}
			continue
		}
		for i := range n {
			if out[i].InSeq != want {
				t.Fatalf("received seq %d, want %d", out[i].InSeq, want)
			}
			if err := checkTick(&out[i]); err != nil {
				t.Fatal(err)
			}
			want++
		}
	}
	if n := r.Len(); n != 0 {
		t.Fatalf("Len after all received = %d", n)
	}
}

// TestMPSCStress runs four producers, each pushing its own increasing
// sequence (tagged in Venue) with a mix of Push and PushBatch, into a 16-slot
// ring; the consumer checks that each producer's ticks arrive in order, intact
// and exactly once.
func TestMPSCStress(t *testing.T) {
	const producers = 4
	r, err := NewMPSC[record.MarketTick](16)
	if err != nil {
		t.Fatal(err)
	}
	perProducer := stressItems() / producers
	var stop atomic.Bool
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 99))
			batch := make([]record.MarketTick, 5)
			for next := uint64(0); next < perProducer; {
				if stop.Load() {
					return
				}
				if rng.IntN(4) != 0 {
					tick := mkTick(uint16(p), next)
					if r.Push(&tick) {
						next++
					} else {
						runtime.Gosched()
					}
					continue
				}
				k := min(uint64(rng.IntN(len(batch))+1), perProducer-next)
				for i := range k {
					batch[i] = mkTick(uint16(p), next+i)
				}
				if n := r.PushBatch(batch[:k]); n > 0 {
					next += uint64(n)
				} else {
					runtime.Gosched()
				}
			}
		})
	}
	defer wg.Wait()
	defer stop.Store(true)

	var got [producers]uint64 // next expected sequence of each producer
	rng := rand.New(rand.NewPCG(5, 6))
	out := make([]record.MarketTick, 9)
	deadline := time.Now().Add(stressDeadline)
	for received := uint64(0); received < perProducer*producers; {
		var n int
		if rng.IntN(2) == 0 {
			if r.Pop(&out[0]) {
				n = 1
			}
		} else {
			n = r.PopBatch(out[:rng.IntN(len(out))+1])
		}
		if n == 0 {
			if runtime.Gosched(); time.Now().After(deadline) {
				t.Fatalf("timed out: received %d, per producer %v of %d", received, got, perProducer)
			}
			continue
		}
		for i := range n {
			tick := &out[i]
			if err := checkTick(tick); err != nil {
				t.Fatal(err)
			}
			p := tick.Venue
			if p >= producers {
				t.Fatalf("unknown producer %d", p)
			}
			if tick.InSeq != got[p] {
				t.Fatalf("producer %d: received seq %d, want %d", p, tick.InSeq, got[p])
			}
			got[p]++
			received++
		}
	}
	for p, n := range got {
		if n != perProducer {
			t.Errorf("producer %d: received %d, want %d", p, n, perProducer)
		}
	}
	if n := r.Len(); n != 0 {
		t.Fatalf("Len after all received = %d", n)
	}
}
