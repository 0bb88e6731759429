package ring

import (
	"sync"
	"testing"
	"time"
)

// TestWaiterNoLostWakeups: a consumer that parks whenever its ring looks
// empty still receives every item promptly; with a one-hour park timeout a
// lost wake-up would hang the test.
func TestWaiterNoLostWakeups(t *testing.T) {
	r, _ := NewSPSC[uint64](64)
	w := NewWaiter()
	const n = 20000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := uint64(1); i <= n; i++ {
			for !r.Push(&i) {
			}
			w.Wake()
			if i%97 == 0 {
				time.Sleep(10 * time.Microsecond) // let the consumer park
			}
		}
	}()
	var got, v uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for got < n {
			if r.Pop(&v) {
				if v != got+1 {
					t.Errorf("got %d after %d", v, got)
					return
				}
				got = v
				continue
			}
			w.Park(time.Hour, func() bool { return r.Len() > 0 })
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("consumer stuck at %d of %d: a wake-up was lost", got, n)
	}
	wg.Wait()
	if w.Wakes.Load() == 0 {
		t.Fatal("the consumer never parked: the test proves nothing")
	}
}

func TestWakeNotParkedNoAllocs(t *testing.T) {
	w := NewWaiter()
	if a := testing.AllocsPerRun(1000, w.Wake); a != 0 {
		t.Fatalf("allocs %v", a)
	}
}
