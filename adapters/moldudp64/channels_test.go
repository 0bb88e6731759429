package moldudp64

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestChannelsOneSocket: three channels (sessions) from one publishing
// socket to one receiver socket, each with its own sequence numbers and a
// packet in five dropped; two channels share a re-request server, the
// third has its own. Every channel's messages arrive once and in order,
// each gap recovered from its channel's server; a datagram of a session
// the receiver does not follow is refused and counted (Unrouted), not
// delivered anywhere.
func TestChannelsOneSocket(t *testing.T) {
	names := []string{"CHAN1", "CHAN2", "CHAN3"}
	stores := []*MemStore{NewMemStore(1), NewMemStore(1), NewMemStore(1)}
	shared, err := ListenRetransmit("127.0.0.1:0", MakeSession(names[0]), stores[0])
	if err != nil {
		t.Fatal(err)
	}
	shared.AddSession(MakeSession(names[1]), stores[1])
	own, err := ListenRetransmit("127.0.0.1:0", MakeSession(names[2]), stores[2])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*RetransmitServer{shared, own} {
		go s.Serve()
		defer s.Close()
	}
	got := make([][]string, len(names))
	var chans []Channel
	for i, n := range names {
		c := Channel{Session: n, Deliver: func(seq uint64, msg []byte) {
			if want := fmt.Sprintf("%s/%d", names[i], seq); string(msg) != want {
				t.Errorf("channel %d message %d is %q, want %q", i, seq, msg, want)
			}
			got[i] = append(got[i], string(msg))
		}}
		if i == 2 {
			c.Rerequest = own.Addr()
		}
		chans = append(chans, c)
	}
	r, err := ListenChannels(ReceiverConfig{Listen: "127.0.0.1:0", Rerequest: shared.Addr(), Session: SessionOptions{Deadline: time.Minute}}, chans)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	conn, err := net.DialUDP("udp", nil, r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pubs := make([]*Publisher, len(names))
	for i, n := range names {
		pubs[i] = NewPublisher(conn, MakeSession(n)) // one source address for every channel
		pubs[i].Store = stores[i]
	}
	const per = 2000
	for k := 1; k <= per; k++ {
		for i, p := range pubs {
			if _, err := p.Add(fmt.Appendf(nil, "%s/%d", names[i], k)); err != nil {
				t.Fatal(err)
			}
			if k%4 == 0 {
				if (k/4+i)%5 == 0 {
					p.Skip()
				} else if err := p.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if k%200 == 0 {
			time.Sleep(time.Millisecond) // loopback drops what overflows the socket buffer
		}
	}
	if _, err := conn.Write(AppendHeader(nil, MakeSession("OTHER"), 1, 0)); err != nil {
		t.Fatal(err)
	}
	for {
		for _, p := range pubs {
			if err := p.Heartbeat(true); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	for i, s := range r.Sessions {
		if len(got[i]) != per || s.Stats.Recovered.Load() == 0 || s.Stats.Lost.Load() != 0 || s.Stats.Refused.Load() != 0 {
			t.Fatalf("channel %s: delivered %d of %d, recovered %d, lost %d, refused %d", names[i], len(got[i]), per,
				s.Stats.Recovered.Load(), s.Stats.Lost.Load(), s.Stats.Refused.Load())
		}
	}
	if r.Unrouted.Load() != 1 {
		t.Fatalf("unrouted %d, want the one datagram of session OTHER", r.Unrouted.Load())
	}
	if a, _ := own.Counts(); a == 0 {
		t.Fatal("channel 3's own re-request server answered nothing")
	}
}

// TestChannelsRefused: a receiver of several channels needs each one's
// session name, once.
func TestChannelsRefused(t *testing.T) {
	f := func(chans []Channel, want string) {
		t.Helper()
		r, err := ListenChannels(ReceiverConfig{Listen: "127.0.0.1:0"}, chans)
		if err == nil {
			r.close()
			t.Fatalf("%v: accepted", chans)
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%v: %v, want %q", chans, err, want)
		}
	}
	f(nil, "no channel")
	f([]Channel{{Session: "A"}, {}}, "channel 1 of 2 has no session name")
	f([]Channel{{Session: "A"}, {Session: "A"}}, `session "A" twice`)
	f([]Channel{{Session: "ELEVENCHARS"}}, "longer than 10")
}
