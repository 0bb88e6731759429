package ring

import (
	"runtime"
	"time"
)

// Backoff paces a loop that waits on a ring which is empty (consumer) or full
// (producer). Rings never block; a caller that decides to wait calls Wait after
// each failed Push or Pop and Reset after each success. The ladder is:
//
//   - the first BackoffSpins calls return at once, so the caller's own retry
//     is a busy spin (lowest latency while the other side is running);
//   - the next BackoffYields calls run runtime.Gosched, letting other
//     goroutines on this P run (the other side may be waiting for it);
//   - after that each call sleeps, starting at BackoffMinSleep and doubling up
//     to BackoffMaxSleep, so an idle loop costs almost no CPU.
//
// Sleeps often last longer than asked: the Go timer and the OS round short
// sleeps up (0.4 ms or more for a 10 µs sleep on a loaded VM). A loop that
// waits on a very small ring, where the other side frees a slot every few
// items, should stay in the spin and yield steps (call Reset more often, or
// use runtime.Gosched itself).
//
// The zero value is ready to use. A Backoff belongs to one goroutine.
type Backoff struct {
	n uint32
	// Waiter, when set, replaces the sleeps: the loop parks on it (up to
	// BackoffMaxSleep) and a producer's Wake ends the wait at once. Check
	// must report whether there is work again (it is asked after parking
	// is announced, so no wake-up is lost).
	Waiter *Waiter
	Check  func() bool
	// NoSleep keeps the ladder at runtime.Gosched instead of sleeping: a
	// waiting loop then reacts within microseconds instead of a sleep's
	// granularity (about 0.5 ms here), at the price of a busy core while
	// idle. For colocated, latency-first deployments.
	NoSleep bool
}

// Ladder of Backoff (see Backoff).
const (
	BackoffSpins    = 64
	BackoffYields   = 128
	BackoffMinSleep = 10 * time.Microsecond
	BackoffMaxSleep = time.Millisecond
)

// maxShift is the doubling step at which the sleep reaches BackoffMaxSleep.
const maxShift = 7 // 10µs << 7 = 1.28ms, clamped to 1ms

// Wait spends the next step of the ladder.
func (b *Backoff) Wait() {
	switch {
	case b.n < BackoffSpins:
	case b.n < BackoffSpins+BackoffYields || b.NoSleep:
		runtime.Gosched()
	case b.Waiter != nil && b.Check != nil:
		b.Waiter.Park(BackoffMaxSleep, b.Check)
	default:
		shift := min(b.n-(BackoffSpins+BackoffYields), maxShift)
		time.Sleep(min(BackoffMinSleep<<shift, BackoffMaxSleep))
	}
	if b.n < BackoffSpins+BackoffYields+maxShift {
		b.n++
	}
}

// Reset starts the ladder again; call it after the ring operation succeeds.
func (b *Backoff) Reset() { b.n = 0 }
