package moldudp64

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// runFeed publishes n messages ("m<seq>") in packets of per messages to a
// receiver on loopback, dropping every packet whose index drop says, then
// ends the session; it returns what the receiver delivered, in order.
func runFeed(t *testing.T, n, per int, drop func(packet int) bool, withServer bool, opts SessionOptions, tune ...func(*ReceiverConfig)) ([]string, *Receiver) {
	t.Helper()
	var mu sync.Mutex
	var got []string
	cfg := ReceiverConfig{Listen: "127.0.0.1:0", Session: opts}
	for _, f := range tune {
		f(&cfg)
	}
	var srv *RetransmitServer
	pubStore := NewMemStore(1)
	if withServer {
		var err error
		if srv, err = ListenRetransmit("127.0.0.1:0", sess, pubStore); err != nil {
			t.Fatal(err)
		}
		go srv.Serve()
		defer srv.Close()
		cfg.Rerequest = srv.Addr()
	}
	r, err := Listen(cfg, func(seq uint64, msg []byte) {
		mu.Lock()
		got = append(got, string(msg))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	pub, err := Dial(r.Addr().String(), sess)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Store = pubStore
	for i := 1; i <= n; i++ {
		if _, err := pub.Add(fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
		if i%per == 0 {
			if drop(i / per) {
				pub.Skip()
			} else if err := pub.Flush(); err != nil {
				t.Fatal(err)
			}
			if (i/per)%50 == 0 {
				time.Sleep(time.Millisecond) // let the receiver keep up: loopback drops what overflows its buffer
			}
		}
	}
	// End the session until the receiver has everything (an end packet can
	// be lost like any other datagram).
	for {
		if err := pub.Heartbeat(true); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("receiver: %v (stats %+v)", err, &r.S.Stats)
			}
			mu.Lock()
			defer mu.Unlock()
			return got, r
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestLoopbackRecoversDrops: a feed over real UDP sockets on loopback with
// one packet in seven dropped at the publisher: every message arrives, in
// order, once, recovered from the re-request server.
func TestLoopbackRecoversDrops(t *testing.T) {
	const n = 20_000
	got, r := runFeed(t, n, 10, func(p int) bool { return p%7 == 3 }, true,
		SessionOptions{Deadline: time.Minute}) // nothing is given up: any loss is the bug
	if len(got) != n {
		t.Fatalf("delivered %d of %d (stats: recovered %d lost %d)", len(got), n, r.S.Stats.Recovered.Load(), r.S.Stats.Lost.Load())
	}
	for i, m := range got {
		if m != fmt.Sprintf("m%d", i+1) {
			t.Fatalf("message %d is %q", i+1, m)
		}
	}
	if r.S.Stats.Recovered.Load() < n/7 || r.S.Stats.Requested.Load() == 0 || r.S.Stats.Lost.Load() != 0 {
		t.Fatalf("recovered %d requested %d lost %d", r.S.Stats.Recovered.Load(), r.S.Stats.Requested.Load(), r.S.Stats.Lost.Load())
	}
}

// TestLoopbackGapWithoutServer: with no re-request server, a dropped packet
// is given up at the deadline, counted and reported, and the rest arrives.
func TestLoopbackGapWithoutServer(t *testing.T) {
	got, r := runFeed(t, 100, 10, func(p int) bool { return p == 4 }, false,
		SessionOptions{Deadline: 50 * time.Millisecond})
	if len(got) != 90 || r.S.Stats.Lost.Load() != 10 || got[30] != "m41" {
		t.Fatalf("delivered %d (m31..m40 should be missing: %v), lost %d", len(got), got[28:32], r.S.Stats.Lost.Load())
	}
}

// TestBusyPollRecoversDrops: the busy-polling feed reader (non-blocking
// reads, yielding between them) delivers the same as the poller's: every
// message, in order, once, the drops recovered from the re-request server;
// and the run ends when the session does.
func TestBusyPollRecoversDrops(t *testing.T) {
	const n = 5_000
	got, r := runFeed(t, n, 10, func(p int) bool { return p%7 == 3 }, true, SessionOptions{Deadline: time.Minute},
		func(c *ReceiverConfig) { c.BusyPoll = true })
	if len(got) != n || r.FeedReads.Load() == 0 || r.S.Stats.Recovered.Load() == 0 {
		t.Fatalf("delivered %d of %d, feed reads %d, recovered %d", len(got), n, r.FeedReads.Load(), r.S.Stats.Recovered.Load())
	}
	for i, m := range got {
		if m != fmt.Sprintf("m%d", i+1) {
			t.Fatalf("message %d is %q", i+1, m)
		}
	}
}

// TestBusyPollStops: a busy-polling receiver on a quiet feed stops when
// its context ends.
func TestBusyPollStops(t *testing.T) {
	r, err := Listen(ReceiverConfig{Listen: "127.0.0.1:0", BusyPoll: true}, func(uint64, []byte) {})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a busy-polling receiver did not stop")
	}
}

// TestPublisherNoListener: a publisher to a port nobody listens on keeps
// publishing (as to a multicast group nobody joined): the refusals the
// kernel reports are counted, not returned.
func TestPublisherNoListener(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	c.Close() // nothing there now
	pub, err := Dial(addr, sess)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for i := range 20 {
		if _, err := pub.Add([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := pub.Flush(); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if err := pub.Heartbeat(true); err != nil {
		t.Fatal(err)
	}
	if pub.Unheard == 0 {
		t.Fatal("no refusal counted")
	}
}
