package link

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Event is one published message.
type Event struct {
	// Topic is the exact topic it was published to.
	Topic string
	// Seq is the bus-wide sequence number: 1, 2, 3, ... in publish order.
	Seq uint64
	// At is when Publish was called (Options.Clock). It is read before the
	// sequence number is assigned, so concurrent publishers may see At and Seq
	// in slightly different orders; one publisher's events have both in order.
	At time.Time
	// Data is the JSON payload, built by the publisher off the hot path. The
	// bus shares this slice with every subscriber and with Recent: nobody may
	// modify it after Publish.
	Data []byte
}

// Bus is an in-process publish/subscribe bus. Its methods are safe for
// concurrent use. See the package documentation for the cut-off policy.
type Bus struct {
	opts Options

	// mu guards everything below. It is held only for bounded work: one
	// publish (a map lookup, a ring store, one non-blocking send per matching
	// subscriber), one subscribe or unsubscribe, one topic's ring copy, or one
	// Stats copy. Lock order: mu is the only lock of the package.
	mu     sync.Mutex
	closed bool
	seq    uint64
	topics map[string]*topic
	subs   []*Subscription // live subscriptions; Subscription.idx is the index

	untracked  uint64
	invalid    uint64
	afterClose uint64
	delivered  uint64
	dropped    uint64
	cutoffs    CutOffs
}

// topic is one tracked topic: its matching live subscribers, its counter and
// its ring of recent events. Guarded by Bus.mu.
type topic struct {
	name      string
	subs      []*Subscription
	published uint64
	ring      []Event // oldest at start once full
	start     int
	evicted   uint64 // Seq of the newest event pushed out of the ring
}

func (t *topic) push(ev Event, limit int) {
	if len(t.ring) < limit {
		t.ring = append(t.ring, ev)
		return
	}
	t.evicted = t.ring[t.start].Seq
	t.ring[t.start] = ev
	t.start++
	if t.start == len(t.ring) {
		t.start = 0
	}
}

// at returns the i-th oldest event in the ring.
func (t *topic) at(i int) *Event {
	i += t.start
	if i >= len(t.ring) {
		i -= len(t.ring)
	}
	return &t.ring[i]
}

func (t *topic) removeSub(s *Subscription) {
	if i := slices.Index(t.subs, s); i >= 0 {
		t.subs = slices.Delete(t.subs, i, i+1)
	}
}

// New returns an empty bus. Options are checked with Validate; an invalid
// Options is a programming error (the engine validates its profile first), so
// New panics with Validate's error.
func New(opts Options) *Bus {
	if err := opts.Validate(); err != nil {
		panic(err)
	}
	return &Bus{
		opts:   opts.withDefaults(),
		topics: make(map[string]*topic),
	}
}

// Publish publishes data on topic. It never blocks on a subscriber: each
// matching subscriber gets the event if its queue has room and is cut off
// (ErrSlowSubscriber) otherwise. Once the topic has been seen, Publish does
// not allocate. An invalid topic (see ValidTopic) is refused and counted in
// Stats.Invalid; a publish after Close is counted in Stats.AfterClose. The
// bus keeps data: the caller must not modify it afterwards.
func (b *Bus) Publish(topic string, data []byte) {
	// The clock is read before taking the lock: on some machines a clock read
	// costs more than everything done under the lock.
	at := b.opts.Clock()
	cut := 0
	b.mu.Lock()
	if b.closed {
		b.afterClose++
		b.mu.Unlock()
		return
	}
	t := b.topics[topic]
	if t == nil {
		if !ValidTopic(topic) {
			b.invalid++
			b.mu.Unlock()
			return
		}
		t = b.trackLocked(topic)
	}
	b.seq++
	if t == nil {
		cut = b.publishUntrackedLocked(Event{Topic: topic, Seq: b.seq, At: at, Data: data})
	} else {
		ev := Event{Topic: t.name, Seq: b.seq, At: at, Data: data}
		t.published++
		t.push(ev, b.opts.RecentLen)
		for i := 0; i < len(t.subs); {
			if b.offerLocked(t.subs[i], ev) {
				i++
			} else {
				// cutLocked removed the subscriber from t.subs in place, so
				// index i now holds the next one.
				cut++
			}
		}
	}
	b.mu.Unlock()
	if cut > 0 && b.opts.Logger != nil {
		b.opts.Logger.Warn("link: slow subscribers cut off", "topic", topic, "count", cut, "queue_len", b.opts.QueueLen)
	}
}

// trackLocked starts tracking a new, valid topic, or returns nil when
// MaxTopics topics are tracked already.
func (b *Bus) trackLocked(name string) *topic {
	if len(b.topics) >= b.opts.MaxTopics {
		return nil
	}
	name = strings.Clone(name) // do not retain the caller's backing memory
	t := &topic{name: name, ring: make([]Event, 0, min(b.opts.RecentLen, 8))}
	for _, s := range b.subs {
		if s.matches(name) {
			t.subs = append(t.subs, s)
			s.topics = append(s.topics, t)
		}
	}
	b.topics[name] = t
	return t
}

// publishUntrackedLocked delivers an event on a topic beyond MaxTopics by
// matching every live subscriber. It returns the number cut off.
func (b *Bus) publishUntrackedLocked(ev Event) (cut int) {
	b.untracked++
	for i := 0; i < len(b.subs); {
		s := b.subs[i]
		if !s.matches(ev.Topic) {
			i++
			continue
		}
		if b.offerLocked(s, ev) {
			i++
		} else {
			// cutLocked swap-removed s from b.subs: index i holds another one.
			cut++
		}
	}
	return cut
}

// offerLocked hands ev to s without waiting. A full queue cuts s off (it is
// removed from b.subs and from its topics) and offerLocked returns false.
func (b *Bus) offerLocked(s *Subscription, ev Event) bool {
	select {
	case s.ch <- ev:
		b.delivered++
		return true
	default:
		b.dropped++
		b.cutLocked(s, stateSlow)
		return false
	}
}

// cutLocked ends a live subscription: detach it everywhere, record why, count
// it and close its channel. All sends happen under mu, so closing here is safe.
func (b *Bus) cutLocked(s *Subscription, state uint32) {
	s.state.Store(state)
	last := len(b.subs) - 1
	b.subs[s.idx] = b.subs[last]
	b.subs[s.idx].idx = s.idx
	b.subs[last] = nil
	b.subs = b.subs[:last]
	for _, t := range s.topics {
		t.removeSub(s)
	}
	s.topics = nil
	switch state {
	case stateSlow:
		b.cutoffs.SlowSubscriber++
	case stateClosed:
		b.cutoffs.Closed++
	case stateBusClosed:
		b.cutoffs.BusClosed++
	}
	close(s.ch)
}

// Subscribe subscribes to every topic matching any of the patterns: an exact
// topic, a prefix ending in '*' ("fl.*"), or "*" for every topic. Each event is
// delivered once per subscription even if several patterns match it. It
// returns ErrNoPatterns, an error wrapping ErrInvalidTopic, or ErrBusClosed.
func (b *Bus) Subscribe(patterns ...string) (*Subscription, error) {
	ps, err := parsePatterns(patterns)
	if err != nil {
		return nil, err
	}
	s, _, err := b.subscribe(ps)
	return s, err
}

// subscribe adds a subscription and returns it with the last sequence number
// assigned before it: the subscription receives exactly the events after it.
func (b *Bus) subscribe(ps []pattern) (*Subscription, uint64, error) {
	s := &Subscription{bus: b, patterns: ps, ch: make(chan Event, b.opts.QueueLen)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, 0, ErrBusClosed
	}
	for _, t := range b.topics {
		if s.matches(t.name) {
			t.subs = append(t.subs, s)
			s.topics = append(s.topics, t)
		}
	}
	s.idx = len(b.subs)
	b.subs = append(b.subs, s)
	return s, b.seq, nil
}

// replay is what a new SSE stream shows first.
type replay struct {
	events []Event // oldest first, Seq in (after, upto]
	// lost is the Seq of the newest event in (after, upto] on a matching topic
	// that is no longer in a ring (0 if none): the client may have missed
	// events up to it.
	lost uint64
}

// subscribeReplay subscribes and collects, from the rings of the topics the
// subscription matches, the events after `after` that precede the
// subscription, the newest limit of them. Together the replay and the channel hold
// every retained event after `after` exactly once, in Seq order. The rings are
// copied one topic at a time so that publishers wait for one short copy at a
// time, never for the whole replay.
func (b *Bus) subscribeReplay(ps []pattern, after uint64, limit int) (*Subscription, replay, error) {
	s, upto, err := b.subscribe(ps)
	if err != nil {
		return nil, replay{}, err
	}
	var r replay
	if after >= upto {
		return s, r, nil
	}
	b.mu.Lock()
	topics := slices.Clone(s.topics)
	b.mu.Unlock()
	for _, t := range topics {
		b.mu.Lock()
		for i := range len(t.ring) {
			if ev := t.at(i); ev.Seq > after && ev.Seq <= upto {
				r.events = append(r.events, *ev)
			}
		}
		if t.evicted > after {
			r.lost = max(r.lost, min(t.evicted, upto))
		}
		b.mu.Unlock()
	}
	slices.SortFunc(r.events, func(x, y Event) int { return cmp.Compare(x.Seq, y.Seq) })
	if n := len(r.events); n > limit {
		r.lost = max(r.lost, r.events[n-limit-1].Seq)
		r.events = slices.Delete(r.events, 0, n-limit)
	}
	return s, r, nil
}

// lastSeq is the last sequence number assigned.
func (b *Bus) lastSeq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Recent returns up to n of the newest events published on the exact topic,
// oldest first (nil if the topic is unknown). n is capped at Options.RecentLen;
// n <= 0 means all that are kept.
func (b *Bus) Recent(topic string, n int) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[topic]
	if t == nil || len(t.ring) == 0 {
		return nil
	}
	if n <= 0 || n > len(t.ring) {
		n = len(t.ring)
	}
	out := make([]Event, n)
	for i := range n {
		out[i] = *t.at(len(t.ring) - n + i)
	}
	return out
}

// Close cuts off every subscription with ErrBusClosed. Later Publish calls are
// counted in Stats.AfterClose and Subscribe returns ErrBusClosed; Recent and
// Stats keep working. Close is idempotent.
func (b *Bus) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for len(b.subs) > 0 {
		b.cutLocked(b.subs[len(b.subs)-1], stateBusClosed)
	}
}

// CutOffs counts ended subscriptions by reason.
type CutOffs struct {
	SlowSubscriber uint64 // "slow_subscriber": queue full, cut off by the bus
	Closed         uint64 // "closed": closed by its owner
	BusClosed      uint64 // "bus_closed": the bus was closed
}

// TopicStats are the counters of one tracked topic.
type TopicStats struct {
	Topic       string
	Published   uint64 // events published on it
	Subscribers int    // live subscriptions matching it
}

// Stats is a snapshot of the bus counters.
type Stats struct {
	Seq         uint64       // the last sequence number assigned (events published in all)
	Topics      []TopicStats // tracked topics, sorted by name
	Untracked   uint64       // events published on topics beyond Options.MaxTopics
	Invalid     uint64       // publishes refused: invalid topic name
	AfterClose  uint64       // publishes refused: bus closed
	Delivered   uint64       // events queued to a subscriber
	Dropped     uint64       // events not delivered because the subscriber was cut off
	CutOffs     CutOffs      // ended subscriptions by reason
	Subscribers int          // live subscriptions
}

// Published returns the events published on topic, 0 if it is not tracked.
func (s Stats) Published(topic string) uint64 {
	i, ok := slices.BinarySearchFunc(s.Topics, topic, func(t TopicStats, name string) int {
		return strings.Compare(t.Topic, name)
	})
	if !ok {
		return 0
	}
	return s.Topics[i].Published
}

// Stats returns a snapshot of the counters. It may be called from any
// goroutine; it holds the bus mutex while it copies one entry per topic.
func (b *Bus) Stats() Stats {
	b.mu.Lock()
	st := Stats{
		Seq:         b.seq,
		Topics:      make([]TopicStats, 0, len(b.topics)),
		Untracked:   b.untracked,
		Invalid:     b.invalid,
		AfterClose:  b.afterClose,
		Delivered:   b.delivered,
		Dropped:     b.dropped,
		CutOffs:     b.cutoffs,
		Subscribers: len(b.subs),
	}
	for _, t := range b.topics {
		st.Topics = append(st.Topics, TopicStats{Topic: t.name, Published: t.published, Subscribers: len(t.subs)})
	}
	b.mu.Unlock()
	slices.SortFunc(st.Topics, func(x, y TopicStats) int { return strings.Compare(x.Topic, y.Topic) })
	return st
}

// String is for logs and test failures.
func (s Stats) String() string {
	return fmt.Sprintf("seq=%d topics=%d untracked=%d invalid=%d after_close=%d delivered=%d dropped=%d cutoffs{slow=%d closed=%d bus_closed=%d} subscribers=%d",
		s.Seq, len(s.Topics), s.Untracked, s.Invalid, s.AfterClose, s.Delivered, s.Dropped,
		s.CutOffs.SlowSubscriber, s.CutOffs.Closed, s.CutOffs.BusClosed, s.Subscribers)
}
