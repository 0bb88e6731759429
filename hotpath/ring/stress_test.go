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

// stressProduce pushes ticks 0 to count-1 of producer p into r, each step a
// single Push (single times out of 4) or a PushBatch of 1 to batch ticks,
// until done or stop is set.
func stressProduce(r fifo[record.MarketTick], p uint16, count uint64, rng *rand.Rand, single, batch int, stop *atomic.Bool) {
	buf := make([]record.MarketTick, batch)
	for next := uint64(0); next < count && !stop.Load(); {
		var n int
		if rng.IntN(4) < single {
			tick := mkTick(p, next)
			if r.Push(&tick) {
				n = 1
			}
		} else {
			k := min(uint64(rng.IntN(batch)+1), count-next)
			for i := range k {
				buf[i] = mkTick(p, next+i)
			}
			n = r.PushBatch(buf[:k])
		}
		if n == 0 {
			runtime.Gosched()
		}
		next += uint64(n)
	}
}

// stressConsume pops total ticks from r, each step a Pop or a PopBatch of 1
// to batch ticks at random, checks each tick is intact and hands it to
// check; it fails the test when they have not all come by stressDeadline.
func stressConsume(t *testing.T, r fifo[record.MarketTick], total uint64, rng *rand.Rand, batch int, check func(*record.MarketTick)) {
	t.Helper()
	out := make([]record.MarketTick, batch)
	deadline := time.Now().Add(stressDeadline)
	for received := uint64(0); received < total; {
		var n int
		if rng.IntN(2) == 0 {
			if r.Pop(&out[0]) {
				n = 1
			}
		} else {
			n = r.PopBatch(out[:rng.IntN(batch)+1])
		}
		if n == 0 {
			if runtime.Gosched(); time.Now().After(deadline) {
				t.Fatalf("timed out: received %d of %d", received, total)
			}
			continue
		}
		for i := range n {
			if err := checkTick(&out[i]); err != nil {
				t.Fatal(err)
			}
			check(&out[i])
		}
		received += uint64(n)
	}
	if n := r.Len(); n != 0 {
		t.Fatalf("Len after all received = %d", n)
	}
}

// TestSPSCStress runs one producer and one consumer through a 16-slot ring,
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
	wg.Go(func() { stressProduce(r, 0, total, rand.New(rand.NewPCG(1, 2)), 2, 13, &stop) })
	defer wg.Wait()
	defer stop.Store(true) // releases the producer if the consumer fails

	var want uint64
	stressConsume(t, r, total, rand.New(rand.NewPCG(3, 4)), 11, func(tick *record.MarketTick) {
		if tick.InSeq != want {
			t.Fatalf("received seq %d, want %d", tick.InSeq, want)
		}
		want++
	})
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
		wg.Go(func() { stressProduce(r, uint16(p), perProducer, rand.New(rand.NewPCG(uint64(p), 99)), 3, 5, &stop) })
	}
	defer wg.Wait()
	defer stop.Store(true)

	var got [producers]uint64 // next expected sequence of each producer
	stressConsume(t, r, perProducer*producers, rand.New(rand.NewPCG(5, 6)), 9, func(tick *record.MarketTick) {
		p := tick.Venue
		if p >= producers {
			t.Fatalf("unknown producer %d", p)
		}
		if tick.InSeq != got[p] {
			t.Fatalf("producer %d: received seq %d, want %d", p, tick.InSeq, got[p])
		}
		got[p]++
	})
	for p, n := range got {
		if n != perProducer {
			t.Errorf("producer %d: received %d, want %d", p, n, perProducer)
		}
	}
}
