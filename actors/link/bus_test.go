package link

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func payload(i int) []byte { return []byte(`{"i":` + strconv.Itoa(i) + `}`) }

func TestFanOutOrder(t *testing.T) {
	b := New(Options{})
	var subs []*Subscription
	for range 3 {
		s, err := b.Subscribe("decisions")
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	other, _ := b.Subscribe("risk")
	const n = 500
	for i := range n {
		b.Publish("decisions", payload(i))
	}
	b.Close()
	for k, s := range subs {
		got := drainClosed(t, s)
		if len(got) != n {
			t.Fatalf("subscriber %d: %d events, want %d", k, len(got), n)
		}
		for i, ev := range got {
			if ev.Seq != uint64(i+1) || ev.Topic != "decisions" || string(ev.Data) != string(payload(i)) {
				t.Fatalf("subscriber %d event %d: %+v", k, i, ev)
			}
			if i > 0 && ev.At.Before(got[i-1].At) {
				t.Fatalf("subscriber %d event %d: At goes back", k, i)
			}
		}
	}
	if got := drainClosed(t, other); len(got) != 0 {
		t.Errorf("risk subscriber got %d decisions", len(got))
	}
	st := b.Stats()
	if st.Delivered != 3*n || st.Published("decisions") != n || st.Seq != n || st.CutOffs.BusClosed != 4 {
		t.Errorf("stats %v", st)
	}
}

func TestWildcardDelivery(t *testing.T) {
	b := New(Options{})
	all, _ := b.Subscribe("*")
	fl, _ := b.Subscribe("fl.*")
	round, _ := b.Subscribe("fl.round.*", "fl.round.completed", "decisions") // overlapping patterns
	exact, _ := b.Subscribe("feature_windows:market")
	topics := []string{"decisions", "fl.round.completed", "feature_windows:market", "fl.lease.granted", "feature_windows:edgar", "risk", "fl.round.started"}
	for i, tp := range topics {
		b.Publish(tp, payload(i))
	}
	// a topic created after the subscriptions and one subscribed after creation
	late, _ := b.Subscribe("fl.*")
	b.Publish("fl.federation.created", payload(99))
	b.Close()

	names := func(evs []Event) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, ev.Topic)
		}
		return out
	}
	f := func(s *Subscription, want ...string) {
		t.Helper()
		if got := names(drainClosed(t, s)); !slices.Equal(got, want) {
			t.Errorf("%v got %q, want %q", s.Patterns(), got, want)
		}
	}
	f(all, append(slices.Clone(topics), "fl.federation.created")...)
	f(fl, "fl.round.completed", "fl.lease.granted", "fl.round.started", "fl.federation.created")
	f(round, "decisions", "fl.round.completed", "fl.round.started")
	f(exact, "feature_windows:market")
	f(late, "fl.federation.created")
}

func TestSubscribeErrors(t *testing.T) {
	b := New(Options{})
	if _, err := b.Subscribe(); !errors.Is(err, ErrNoPatterns) {
		t.Errorf("no patterns: %v", err)
	}
	if _, err := b.Subscribe("ok", "bad pattern"); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("bad pattern: %v", err)
	}
	many := make([]string, MaxPatterns+1)
	for i := range many {
		many[i] = "t" + strconv.Itoa(i)
	}
	if _, err := b.Subscribe(many...); !errors.Is(err, ErrInvalidTopic) {
		t.Errorf("%d patterns: %v", len(many), err)
	}
	s, err := b.Subscribe("a", "b", "a", "fl.*", "fl.*")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Patterns(); !slices.Equal(got, []string{"a", "b", "fl.*"}) {
		t.Errorf("Patterns() = %q", got)
	}
	b.Close()
	if _, err := b.Subscribe("a"); !errors.Is(err, ErrBusClosed) {
		t.Errorf("after Close: %v", err)
	}
	if st := b.Stats(); st.Subscribers != 0 {
		t.Errorf("stats %v", st)
	}
}

// A subscriber that never reads is cut off with ErrSlowSubscriber once its
// queue is full; a fast one receives everything; Publish never waits.
func TestSlowSubscriberCutOff(t *testing.T) {
	const queue, n, round = 64, 20000, 32
	b := New(Options{QueueLen: queue})
	slow, _ := b.Subscribe("decisions")
	fast, _ := b.Subscribe("decisions")
	var publishing time.Duration
	var got []Event
	for i := 0; i < n; i += round {
		start := time.Now()
		for j := i; j < i+round; j++ {
			b.Publish("decisions", payload(j))
		}
		publishing += time.Since(start)
		for range round {
			ev, _ := recv(t, fast)
			got = append(got, ev)
		}
	}
	// Generous: 20000 publishes take about a millisecond; a blocked publisher
	// would never get here at all.
	if publishing > 5*time.Second {
		t.Errorf("%d publishes took %v", n, publishing)
	}
	if !errors.Is(slow.Err(), ErrSlowSubscriber) {
		t.Errorf("slow.Err() = %v", slow.Err())
	}
	queued := drainClosed(t, slow)
	if len(queued) != queue || queued[0].Seq != 1 || queued[queue-1].Seq != queue {
		t.Errorf("slow subscriber kept %d events (want the first %d)", len(queued), queue)
	}
	if fast.Err() != nil {
		t.Errorf("fast.Err() = %v", fast.Err())
	}
	if len(got) != n {
		t.Fatalf("fast got %d, want %d", len(got), n)
	}
	for i, ev := range got {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("fast event %d has seq %d", i, ev.Seq)
		}
	}
	st := b.Stats()
	want := CutOffs{SlowSubscriber: 1}
	if st.CutOffs != want || st.Dropped != 1 || st.Delivered != n+queue || st.Subscribers != 1 {
		t.Errorf("stats %v", st)
	}
	fast.Close()
	if !errors.Is(fast.Err(), ErrClosed) {
		t.Errorf("fast.Err() after Close = %v", fast.Err())
	}
}

// Many publishers, subscribers that never read: every one is cut off, nobody
// waits, the counts add up.
func TestNobodyReadsPublishersNeverWait(t *testing.T) {
	checkNoLeaks(t)
	const publishers, each, queue = 4, 5000, 16
	b := New(Options{QueueLen: queue})
	var subs []*Subscription
	for _, p := range []string{"*", "decisions", "risk", "fl.*"} {
		s, _ := b.Subscribe(p)
		subs = append(subs, s)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				b.Publish([]string{"decisions", "risk", "fl.round.completed"}[(p+i)%3], payload(i))
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("%d publishes took %v", publishers*each, d)
	}
	for _, s := range subs {
		if !errors.Is(s.Err(), ErrSlowSubscriber) {
			t.Errorf("%v: Err() = %v", s.Patterns(), s.Err())
		}
		if got := drainClosed(t, s); len(got) != queue {
			t.Errorf("%v: %d queued, want %d", s.Patterns(), len(got), queue)
		}
	}
	st := b.Stats()
	if st.CutOffs.SlowSubscriber != 4 || st.Dropped != 4 || st.Delivered != 4*queue || st.Subscribers != 0 || st.Seq != publishers*each {
		t.Errorf("stats %v", st)
	}
}

// Concurrent publishers, readers, subscribe/close churn and Stats readers
// (run under -race). Every subscriber sees strictly increasing sequence
// numbers, each publisher's events in its order, and all of them.
func TestConcurrentPublishers(t *testing.T) {
	checkNoLeaks(t)
	const publishers, each = 8, 1000
	b := New(Options{QueueLen: 1 << 14})
	topicOf := func(p, i int) string {
		return []string{"decisions", "risk", "feature_windows:market", "fl.round.completed"}[(p+i)%4]
	}
	type result struct {
		evs []Event
	}
	patterns := [][]string{{"*"}, {"risk"}, {"fl.*", "decisions"}}
	results := make([]result, len(patterns))
	var readers sync.WaitGroup
	for k, ps := range patterns {
		s, err := b.Subscribe(ps...)
		if err != nil {
			t.Fatal(err)
		}
		readers.Go(func() {
			for ev := range s.C() {
				results[k].evs = append(results[k].evs, ev)
			}
		})
	}
	stop := make(chan struct{})
	var side sync.WaitGroup
	side.Go(func() { // churn
		for {
			select {
			case <-stop:
				return
			default:
			}
			s, err := b.Subscribe("decisions", "fl.*")
			if err != nil {
				t.Error(err)
				return
			}
			s.Close()
			for range s.C() {
			}
		}
	})
	side.Go(func() { // observers
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = b.Stats()
			_ = b.Recent("decisions", 10)
		}
	})
	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			for i := range each {
				b.Publish(topicOf(p, i), []byte(fmt.Sprintf(`{"p":%d,"i":%d}`, p, i)))
			}
		})
	}
	pubs.Wait()
	close(stop)
	side.Wait()
	b.Close()
	readers.Wait()

	var delivered uint64
	for k, ps := range patterns {
		evs := results[k].evs
		delivered += uint64(len(evs))
		want := 0
		for p := range publishers {
			for i := range each {
				for _, pat := range ps {
					if pp, _ := parsePattern(pat); pp.match(topicOf(p, i)) {
						want++
						break
					}
				}
			}
		}
		if len(evs) != want {
			t.Errorf("%v: %d events, want %d", ps, len(evs), want)
		}
		last := make([]int, publishers)
		for p := range last {
			last[p] = -1
		}
		for j, ev := range evs {
			if j > 0 && ev.Seq <= evs[j-1].Seq {
				t.Fatalf("%v: seq %d after %d", ps, ev.Seq, evs[j-1].Seq)
			}
			var p, i int
			if _, err := fmt.Sscanf(string(ev.Data), `{"p":%d,"i":%d}`, &p, &i); err != nil {
				t.Fatal(err)
			}
			if i <= last[p] || ev.Topic != topicOf(p, i) {
				t.Fatalf("%v: publisher %d event %d (%s) out of order or on the wrong topic", ps, p, i, ev.Topic)
			}
			last[p] = i
		}
	}
	st := b.Stats()
	if st.Seq != publishers*each || st.Dropped != 0 || st.CutOffs.SlowSubscriber != 0 || st.Subscribers != 0 {
		t.Errorf("stats %v", st)
	}
	// Delivered also counts what the churning subscribers got.
	if st.Delivered < delivered {
		t.Errorf("delivered %d < %d received", st.Delivered, delivered)
	}
}

func TestCloseSemantics(t *testing.T) {
	b := New(Options{})
	s, _ := b.Subscribe("decisions")
	keep, _ := b.Subscribe("decisions")
	b.Publish("decisions", payload(1))
	if s.Err() != nil {
		t.Fatalf("live Err() = %v", s.Err())
	}
	s.Close()
	s.Close() // idempotent
	if !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("Err() = %v", s.Err())
	}
	b.Publish("decisions", payload(2))
	if got := drainClosed(t, s); len(got) != 1 || got[0].Seq != 1 {
		t.Errorf("closed subscription yielded %+v, want the one event queued before Close", got)
	}
	st := b.Stats()
	if st.CutOffs != (CutOffs{Closed: 1}) || st.Subscribers != 1 || st.Topics[0].Subscribers != 1 {
		t.Errorf("stats %v %+v", st, st.Topics)
	}

	b.Close()
	b.Close() // idempotent
	if !errors.Is(keep.Err(), ErrBusClosed) {
		t.Errorf("keep.Err() = %v", keep.Err())
	}
	keep.Close() // after the bus closed: the reason stays bus_closed
	if !errors.Is(keep.Err(), ErrBusClosed) {
		t.Errorf("keep.Err() after its own Close = %v", keep.Err())
	}
	if got := drainClosed(t, keep); len(got) != 2 {
		t.Errorf("keep got %d events, want 2", len(got))
	}
	b.Publish("decisions", payload(3))
	if got := b.Recent("decisions", 0); len(got) != 2 {
		t.Errorf("Recent after Close: %d events, want the 2 published before", len(got))
	}
	st = b.Stats()
	if st.CutOffs != (CutOffs{Closed: 1, BusClosed: 1}) || st.AfterClose != 1 || st.Subscribers != 0 || st.Seq != 2 {
		t.Errorf("stats %v", st)
	}
}

func TestRecent(t *testing.T) {
	b := New(Options{RecentLen: 5})
	if got := b.Recent("decisions", 3); got != nil {
		t.Errorf("unknown topic: %v", got)
	}
	for i := range 12 {
		b.Publish("decisions", payload(i))
		if i%3 == 0 {
			b.Publish("risk", payload(100+i))
		}
	}
	seqs := func(evs []Event) []int {
		var out []int
		for _, ev := range evs {
			i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(string(ev.Data), `{"i":`), "}"))
			out = append(out, i)
		}
		return out
	}
	f := func(topic string, n int, want ...int) {
		t.Helper()
		if got := seqs(b.Recent(topic, n)); !slices.Equal(got, want) {
			t.Errorf("Recent(%q, %d) = %v, want %v", topic, n, got, want)
		}
	}
	f("decisions", 0, 7, 8, 9, 10, 11)
	f("decisions", -1, 7, 8, 9, 10, 11)
	f("decisions", 3, 9, 10, 11)
	f("decisions", 100, 7, 8, 9, 10, 11)
	f("decisions", 1, 11)
	f("risk", 0, 100, 103, 106, 109)
	// Recent returns copies: changing them does not change the ring.
	r := b.Recent("decisions", 1)
	r[0].Seq = 0
	if b.Recent("decisions", 1)[0].Seq == 0 {
		t.Error("Recent shares its slice with the ring")
	}
}

func TestPublishInvalidTopic(t *testing.T) {
	b := New(Options{})
	all, _ := b.Subscribe("*")
	for _, tp := range []string{"", "a b", "fl.*", "a,b", "dé", strings.Repeat("x", MaxTopicLen+1)} {
		b.Publish(tp, payload(0))
	}
	b.Publish("ok", payload(1))
	b.Close()
	if got := drainClosed(t, all); len(got) != 1 || got[0].Topic != "ok" || got[0].Seq != 1 {
		t.Errorf("delivered %+v", got)
	}
	if st := b.Stats(); st.Invalid != 6 || len(st.Topics) != 1 || st.Seq != 1 {
		t.Errorf("stats %v", st)
	}
}

func TestUntrackedTopics(t *testing.T) {
	b := New(Options{MaxTopics: 2, QueueLen: 2})
	all, _ := b.Subscribe("*")
	slow, _ := b.Subscribe("c")
	for i, tp := range []string{"a", "b", "c", "c", "c"} { // c is beyond MaxTopics
		b.Publish(tp, payload(i))
		// all reads as it goes; slow never does, and its queue (2) overflows
		// on the third c: cut off on the untracked path.
		if got, _ := recv(t, all); got.Topic != tp || got.Seq != uint64(i+1) {
			t.Fatalf("publish %d: got %+v", i, got)
		}
	}
	if !errors.Is(slow.Err(), ErrSlowSubscriber) {
		t.Errorf("slow.Err() = %v", slow.Err())
	}
	if all.Err() != nil {
		t.Errorf("all.Err() = %v", all.Err())
	}
	if b.Recent("c", 0) != nil {
		t.Error("untracked topic has a ring")
	}
	st := b.Stats()
	if st.Untracked != 3 || len(st.Topics) != 2 || st.Published("c") != 0 || st.Published("a") != 1 || st.CutOffs.SlowSubscriber != 1 {
		t.Errorf("stats %v", st)
	}
}

func TestStatsTopics(t *testing.T) {
	b := New(Options{})
	_, _ = b.Subscribe("fl.*")
	_, _ = b.Subscribe("*")
	for i, tp := range []string{"risk", "fl.round.completed", "decisions", "risk", "risk"} {
		b.Publish(tp, payload(i))
	}
	st := b.Stats()
	want := []TopicStats{{"decisions", 1, 1}, {"fl.round.completed", 1, 2}, {"risk", 3, 1}}
	if !slices.Equal(st.Topics, want) {
		t.Errorf("topics %+v, want %+v", st.Topics, want)
	}
	if st.Published("risk") != 3 || st.Published("nope") != 0 || st.Delivered != 6 || st.Subscribers != 2 {
		t.Errorf("stats %v", st)
	}
	if !strings.Contains(st.String(), "delivered=6") {
		t.Errorf("String() = %s", st)
	}
}

// Publish allocates nothing once the topic exists, with or without listeners.
func TestPublishAllocs(t *testing.T) {
	b := New(Options{QueueLen: 4096})
	data := payload(1)
	b.Publish("nobody", data)
	if a := testing.AllocsPerRun(1000, func() { b.Publish("nobody", data) }); a != 0 {
		t.Errorf("publish with no subscribers: %v allocs", a)
	}
	s1, _ := b.Subscribe("decisions")
	s2, _ := b.Subscribe("*")
	b.Publish("decisions", data)
	if a := testing.AllocsPerRun(1000, func() { b.Publish("decisions", data) }); a != 0 {
		t.Errorf("publish with two subscribers: %v allocs", a)
	}
	if s1.Err() != nil || s2.Err() != nil {
		t.Fatalf("subscribers cut off: %v %v", s1.Err(), s2.Err())
	}
}
