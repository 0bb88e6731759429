package link

import (
	"testing"
	"time"
)

// The Publish benchmarks measure the publisher's cost only: subscribers are
// drained with the timer stopped every drainEvery events, so none is ever cut
// off (checked at the end) and no reader goroutine competes for the CPU. The
// baseline is a plain buffered channel send of the same Event, drained the
// same way: Publish with one subscriber costs that send plus the bus's lock,
// lookup, clock and ring store.

const (
	benchQueue = 8192
	drainEvery = 4096
)

func benchPublish(b *testing.B, subscribers int) {
	bus := New(Options{QueueLen: benchQueue})
	subs := make([]*Subscription, subscribers)
	for i := range subs {
		s, err := bus.Subscribe("decisions")
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = s
	}
	data := []byte(`{"action":"buy","size":100,"expert":"ofi_v3"}`)
	bus.Publish("decisions", data) // the topic exists from here on
	for _, s := range subs {
		<-s.C()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bus.Publish("decisions", data)
		if subscribers > 0 && i%drainEvery == drainEvery-1 {
			b.StopTimer()
			for _, s := range subs {
				for range drainEvery {
					<-s.C()
				}
			}
			b.StartTimer()
		}
	}
	b.StopTimer()
	if st := bus.Stats(); st.CutOffs.SlowSubscriber != 0 {
		b.Fatalf("subscribers were cut off: %v", st)
	}
}

func BenchmarkPublish0Subscribers(b *testing.B) { benchPublish(b, 0) }
func BenchmarkPublish1Subscriber(b *testing.B)  { benchPublish(b, 1) }
func BenchmarkPublish8Subscribers(b *testing.B) { benchPublish(b, 8) }

// BenchmarkPublishParallel0Subscribers: many publishers on a topic nobody
// listens to (they share the bus mutex).
func BenchmarkPublishParallel0Subscribers(b *testing.B) {
	bus := New(Options{})
	data := []byte(`{"action":"buy"}`)
	bus.Publish("decisions", data)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bus.Publish("decisions", data)
		}
	})
}

// BenchmarkClockRead: time.Now, which Publish calls once per event (the
// default Options.Clock). On virtual machines it can be half of Publish.
func BenchmarkClockRead(b *testing.B) {
	b.ReportAllocs()
	var t time.Time
	for i := 0; i < b.N; i++ {
		t = time.Now()
	}
	_ = t
}

// BenchmarkChannelSendBaseline: the same Event sent on one buffered channel
// with a non-blocking send, drained like the Publish benchmarks.
func BenchmarkChannelSendBaseline(b *testing.B) {
	ch := make(chan Event, benchQueue)
	ev := Event{Topic: "decisions", Seq: 1, Data: []byte(`{"action":"buy","size":100,"expert":"ofi_v3"}`)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Seq++
		select {
		case ch <- ev:
		default:
			b.Fatal("baseline channel full")
		}
		if i%drainEvery == drainEvery-1 {
			b.StopTimer()
			for range drainEvery {
				<-ch
			}
			b.StartTimer()
		}
	}
}
