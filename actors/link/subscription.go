package link

import "sync/atomic"

// Subscription receives the events of the topics it matches, in Seq order,
// until it is closed or cut off; then its channel is closed (after the events
// already queued) and Err says why.
type Subscription struct {
	bus      *Bus
	patterns []pattern
	ch       chan Event
	state    atomic.Uint32

	// guarded by bus.mu
	idx    int      // index in bus.subs while live
	topics []*topic // tracked topics whose subs hold this subscription
}

// C is the event channel. It is closed when the subscription ends.
func (s *Subscription) C() <-chan Event { return s.ch }

// Err is nil while the subscription is live, then ErrSlowSubscriber,
// ErrClosed or ErrBusClosed. It may be called from any goroutine.
func (s *Subscription) Err() error { return stateErr(s.state.Load()) }

// Patterns returns the subscription's patterns, de-duplicated.
func (s *Subscription) Patterns() []string {
	out := make([]string, len(s.patterns))
	for i, p := range s.patterns {
		out[i] = p.String()
	}
	return out
}

// Close unsubscribes and closes the channel; events still queued can be
// drained. Err becomes ErrClosed unless the subscription had already ended for
// another reason. Close is idempotent and safe from any goroutine.
func (s *Subscription) Close() {
	b := s.bus
	b.mu.Lock()
	if s.state.Load() == stateLive {
		b.cutLocked(s, stateClosed)
	}
	b.mu.Unlock()
}

func (s *Subscription) matches(topic string) bool {
	for _, p := range s.patterns {
		if p.match(topic) {
			return true
		}
	}
	return false
}
