package ring

import (
	"sync/atomic"
	"time"
)

// Waiter lets the consumer of one or more rings park while they are empty
// and a producer wake it, so an idle loop costs no CPU yet reacts in
// microseconds (a channel wake-up) instead of after a sleep (about 0.5 ms
// on these machines).
//
// Protocol: the consumer calls Park(check) where check reports whether
// there is work; Park marks the consumer parked, checks again, and only then
// blocks. A producer calls Wake after every successful push; Wake costs one
// fence and one atomic load unless the consumer is parked. The consumer's
// parked store is a sequentially consistent atomic (a full barrier before its
// second check), and Wake fences between the producer's publish (a plain
// store on amd64, see publish) and its load of parked, so either the
// consumer's second check sees the push or the producer sees the parked
// flag: a wake-up is never lost (TestWaiterPingPongNoLostWakeup, run with and
// without the race detector).
type Waiter struct {
	parked atomic.Bool
	ch     chan struct{}
	timer  *time.Timer
	// Wakes counts wake-ups sent to a parked consumer.
	Wakes atomic.Uint64
}

// NewWaiter returns a waiter.
func NewWaiter() *Waiter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &Waiter{ch: make(chan struct{}, 1), timer: t}
}

// Wake wakes the consumer if it is parked. Safe from any goroutine.
func (w *Waiter) Wake() {
	if w == nil {
		return
	}
	fence()
	if w.parked.Load() {
		select {
		case w.ch <- struct{}{}:
			w.Wakes.Add(1)
		default:
		}
	}
}

// Park blocks the consumer until a producer wakes it or timeout passes,
// unless check reports work first. It reports false only when the timeout
// ended the wait. Consumer goroutine only.
func (w *Waiter) Park(timeout time.Duration, check func() bool) (woken bool) {
	w.parked.Store(true)
	if check() {
		w.parked.Store(false)
		return true
	}
	w.timer.Reset(timeout)
	select {
	case <-w.ch:
		woken = true
	case <-w.timer.C:
	}
	w.timer.Stop()
	w.parked.Store(false)
	select { // drop a wake-up that raced with the timer
	case <-w.ch:
		woken = true
	default:
	}
	return woken
}
