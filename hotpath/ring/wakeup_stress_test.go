package ring

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestWaiterPingPongNoLostWakeup hands items one at a time between a producer
// and a consumer that parks the moment its ring is empty, so the producer's
// publish+Wake overlaps the consumer's park+check on nearly every item: the
// store→load window a missing fence leaves open (x86 may run Wake's load of
// parked before the publish store is visible) is exercised hundreds of
// thousands of times. A park that ends by its timer while an item is waiting
// is a lost wake-up; the timer is long (10 s) so only a lost wake-up, not a
// slow machine, can end a park that way.
//
// It matters most without the race detector, where publish is a plain store
// (make test runs the ring tests both ways).
func TestWaiterPingPongNoLostWakeup(t *testing.T) {
	items := uint64(200_000)
	if raceEnabled || testing.Short() {
		items = 20_000
	}
	r, _ := NewSPSC[uint64](8)
	w := NewWaiter()
	var acked atomic.Uint64
	var lost atomic.Uint64
	done := make(chan struct{})
	go func() { // consumer
		defer close(done)
		var v uint64
		for got := uint64(0); got < items; {
			if r.Pop(&v) {
				got++
				acked.Store(got)
				continue
			}
			if !w.Park(10*time.Second, func() bool { return r.Len() > 0 }) && r.Len() > 0 {
				lost.Add(1)
			}
		}
	}()
	for i := uint64(1); i <= items; i++ {
		for !r.Push(&i) {
			runtime.Gosched()
		}
		w.Wake()
		for acked.Load() < i { // wait for the hand-off, so the next push meets a parking consumer
			runtime.Gosched()
		}
	}
	<-done
	if n := lost.Load(); n != 0 {
		t.Fatalf("%d wake-ups lost in %d hand-offs", n, items)
	}
	if w.Wakes.Load() == 0 {
		t.Fatal("the consumer never parked: the test proves nothing")
	}
}
