package moldudp64

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"thunderline/hotpath/alloctest"
)

var sess = MakeSession("TEST000001")

// pkt builds a packet of msgs from seq (msgs are "m<seq>").
func pkt(seq uint64, n int) []byte {
	b := AppendHeader(nil, sess, seq, uint16(n))
	for i := range n {
		b = AppendMessage(b, fmt.Appendf(nil, "m%d", seq+uint64(i)))
	}
	return b
}

type collector struct{ got []string }

func (c *collector) deliver(seq uint64, msg []byte) {
	if want := fmt.Sprintf("m%d", seq); string(msg) != want {
		panic(fmt.Sprintf("seq %d carried %q", seq, msg))
	}
	c.got = append(c.got, string(msg))
}

func (c *collector) upTo(t *testing.T, n int) {
	t.Helper()
	if len(c.got) != n {
		t.Fatalf("delivered %d messages, want %d: %v", len(c.got), n, c.got)
	}
	for i, m := range c.got {
		if m != fmt.Sprintf("m%d", i+1) {
			t.Fatalf("message %d is %q: out of order or duplicated: %v", i+1, m, c.got)
		}
	}
}

func TestMessagesAndErrors(t *testing.T) {
	var seqs []uint64
	h, err := Messages(pkt(5, 3), func(seq uint64, msg []byte) { seqs = append(seqs, seq) })
	if err != nil || h.Seq != 5 || h.Count != 3 || fmt.Sprint(seqs) != "[5 6 7]" || h.SessionName() != "TEST000001" {
		t.Fatalf("%+v %v %v", h, seqs, err)
	}
	good := pkt(1, 2)
	for name, p := range map[string][]byte{
		"short header":      good[:HeaderLen-1],
		"truncated message": good[:len(good)-1],
		"trailing bytes":    append(bytes.Clone(good), 0),
		"zero length":       append(AppendHeader(nil, sess, 1, 1), 0, 0),
		"heartbeat + bytes": append(AppendHeader(nil, sess, 1, 0), 1),
		"sequence 0":        AppendMessage(AppendHeader(nil, sess, 0, 1), []byte("x")),
	} {
		calls := 0
		if _, err := Messages(p, func(uint64, []byte) { calls++ }); !errors.Is(err, ErrMalformed) || calls != 0 {
			t.Errorf("%s: err %v, %d messages delivered", name, err, calls)
		}
	}
	if _, err := ParseRequest(AppendRequest(nil, sess, 9, 4)); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseRequest(AppendRequest(nil, sess, 9, 0)); err == nil {
		t.Fatal("a request for 0 messages")
	}
}

// TestSessionGapReorderDuplicate: a gap is asked for, held-back messages are
// delivered once it is filled, duplicates and retransmissions of delivered
// messages are dropped, and the order is the sequence order throughout.
func TestSessionGapReorderDuplicate(t *testing.T) {
	var c collector
	s := NewSession(SessionOptions{}, c.deliver)
	t0 := time.Unix(0, 0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Packet(pkt(1, 3), t0)) // 1..3
	must(s.Packet(pkt(7, 2), t0)) // 7..8: gap 4..6
	c.upTo(t, 3)
	var asks []string
	s.Requests(t0, func(seq uint64, n uint16) { asks = append(asks, fmt.Sprintf("%d+%d", seq, n)) })
	if fmt.Sprint(asks) != "[4+3]" || s.Missing() != 3 {
		t.Fatalf("asks %v missing %d", asks, s.Missing())
	}
	s.Requests(t0.Add(time.Millisecond), func(uint64, uint16) { t.Fatal("asked again before RequestEvery") })
	must(s.Packet(pkt(5, 1), t0)) // the middle of the gap
	c.upTo(t, 3)
	must(s.Packet(pkt(4, 1), t0))
	c.upTo(t, 5)
	must(s.Packet(pkt(1, 6), t0)) // a retransmission covering delivered and missing
	c.upTo(t, 8)
	must(s.Packet(pkt(9, 1), t0))
	c.upTo(t, 9)
	if s.Stats.Duplicates.Load() != 5 || s.Stats.Recovered.Load() != 3 || s.Stats.Gaps.Load() != 1 || s.Missing() != 0 {
		t.Fatalf("dups %d recovered %d gaps %d missing %d", s.Stats.Duplicates.Load(), s.Stats.Recovered.Load(), s.Stats.Gaps.Load(), s.Missing())
	}
}

// TestSessionDeadline: a gap nobody fills is given up at the deadline,
// reported once, and delivery goes on past it.
func TestSessionDeadline(t *testing.T) {
	var c collector
	s := NewSession(SessionOptions{Deadline: time.Second}, c.deliver)
	var lost []string
	s.OnLost = func(from, n uint64) { lost = append(lost, fmt.Sprintf("%d+%d", from, n)) }
	t0 := time.Unix(0, 0)
	s.Packet(pkt(1, 2), t0)
	s.Packet(pkt(5, 2), t0)                                           // gap 3..4
	s.Packet(AppendHeader(nil, sess, 9, 0), t0.Add(time.Millisecond)) // heartbeat: 7..8 missing too
	s.Expire(t0.Add(999 * time.Millisecond))
	if len(c.got) != 2 || len(lost) != 0 {
		t.Fatalf("expired early: %v %v", c.got, lost)
	}
	s.Expire(t0.Add(time.Second))
	if fmt.Sprint(lost) != "[3+2]" || len(c.got) != 4 || s.Next() != 7 {
		t.Fatalf("lost %v delivered %v next %d", lost, c.got, s.Next())
	}
	s.Expire(t0.Add(time.Second + time.Millisecond))
	if fmt.Sprint(lost) != "[3+2 7+2]" || s.Next() != 9 || s.Stats.Lost.Load() != 4 {
		t.Fatalf("lost %v next %d", lost, s.Next())
	}
	s.Packet(pkt(3, 1), t0) // too late: a duplicate now
	if s.Stats.Duplicates.Load() != 1 {
		t.Fatal("a message of a given-up gap was delivered")
	}
	s.Packet(AppendHeader(nil, sess, 9, EndOfSession), t0)
	if !s.Ended() {
		t.Fatal("end of session")
	}
}

func TestSessionRefusals(t *testing.T) {
	var c collector
	s := NewSession(SessionOptions{MaxJump: 100}, c.deliver)
	t0 := time.Unix(0, 0)
	s.Packet(pkt(1, 1), t0)
	other := AppendMessage(AppendHeader(nil, MakeSession("OTHER"), 2, 1), []byte("m2"))
	if err := s.Packet(other, t0); !errors.Is(err, ErrForeignSession) {
		t.Fatalf("foreign session: %v", err)
	}
	if err := s.Packet(pkt(1000, 1), t0); !errors.Is(err, ErrJump) {
		t.Fatalf("jump: %v", err)
	}
	if err := s.Packet(pkt(2, 1)[:25], t0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated: %v", err)
	}
	s.Packet(pkt(2, 1), t0)
	c.upTo(t, 2)
	if s.Stats.Refused.Load() != 3 || s.Missing() != 0 {
		t.Fatalf("refused %d missing %d", s.Stats.Refused.Load(), s.Missing())
	}
}

// TestSessionOverflow: with no room to hold messages back, they are asked
// for again rather than lost, and everything still arrives in order.
func TestSessionOverflow(t *testing.T) {
	var c collector
	s := NewSession(SessionOptions{MaxPending: 2}, c.deliver)
	t0 := time.Unix(0, 0)
	s.Packet(pkt(2, 5), t0) // 2..6 ahead of 1: holds 2, 3; 4..6 missing again
	if s.Stats.Overflow.Load() != 3 || s.Missing() != 4 {
		t.Fatalf("overflow %d missing %d", s.Stats.Overflow.Load(), s.Missing())
	}
	s.Packet(pkt(1, 1), t0)
	c.upTo(t, 3)
	s.Packet(pkt(4, 3), t0)
	c.upTo(t, 6)
}

func TestJoinLate(t *testing.T) {
	var c collector
	s := NewSession(SessionOptions{JoinLate: true}, func(seq uint64, msg []byte) { c.got = append(c.got, string(msg)) })
	s.Packet(pkt(1000, 2), time.Unix(0, 0))
	if fmt.Sprint(c.got) != "[m1000 m1001]" || s.Missing() != 0 {
		t.Fatalf("%v missing %d", c.got, s.Missing())
	}
}

// TestSessionInOrderNoAllocs: in-order packets cost no allocation.
func TestSessionInOrderNoAllocs(t *testing.T) {
	n := 0
	s := NewSession(SessionOptions{}, func(uint64, []byte) { n++ })
	packets := make([][]byte, 3000) // alloctest.Count: a warm-up and three measurements of 999
	for i := range packets {
		packets[i] = pkt(uint64(i*4+1), 4)
	}
	i := 0
	now := time.Unix(0, 0)
	if a := alloctest.Count(999, func() { s.Packet(packets[i], now); i++ }); a != 0 {
		t.Fatalf("%d allocations over 999 packets", a)
	}
	if n != 4*2998 {
		t.Fatalf("delivered %d", n)
	}
}

func FuzzParsePacket(f *testing.F) {
	f.Add(pkt(1, 3))
	f.Add(AppendHeader(nil, sess, 5, EndOfSession))
	f.Add(AppendRequest(nil, sess, 3, 2))
	f.Fuzz(func(t *testing.T, p []byte) {
		Messages(p, func(seq uint64, msg []byte) {
			if len(msg) == 0 {
				t.Fatal("empty message delivered")
			}
		})
		ParseRequest(p)
	})
}

// FuzzSession: any run of packets keeps the session's promise — messages
// come out in strictly increasing sequence order, each once.
func FuzzSession(f *testing.F) {
	f.Add(pkt(1, 3), pkt(7, 2), pkt(4, 3), uint16(300))
	f.Fuzz(func(t *testing.T, a, b, c []byte, step uint16) {
		var last uint64
		s := NewSession(SessionOptions{MaxPending: 8, MaxJump: 1 << 12}, func(seq uint64, msg []byte) {
			if seq <= last && last != 0 {
				t.Fatalf("seq %d after %d", seq, last)
			}
			last = seq
		})
		now := time.Unix(0, 0)
		for _, p := range [][]byte{a, b, c, a} {
			s.Packet(p, now)
			s.Requests(now, func(uint64, uint16) {})
			now = now.Add(time.Duration(step) * time.Millisecond)
			s.Expire(now)
		}
	})
}

// TestSessionEventsAndRx: a gap is reported when seen, each re-request for
// it when sent, a range given up when the deadline passes; every message is
// delivered with its own packet's receive time, held-back ones included.
func TestSessionEventsAndRx(t *testing.T) {
	var events []string
	rx := map[uint64]int64{}
	var s *Session
	s = NewSession(SessionOptions{Deadline: time.Second, RequestEvery: time.Millisecond}, func(seq uint64, msg []byte) { rx[seq] = s.Rx() })
	s.OnGap = func(from, n uint64) { events = append(events, fmt.Sprintf("gap %d+%d", from, n)) }
	s.OnRequest = func(from, n uint64) { events = append(events, fmt.Sprintf("request %d+%d", from, n)) }
	s.OnLost = func(from, n uint64) { events = append(events, fmt.Sprintf("lost %d+%d", from, n)) }
	t0 := time.Unix(0, 0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PacketAt(pkt(1, 2), t0, 100))                          // 1, 2
	must(s.PacketAt(pkt(5, 2), t0, 200))                          // 3, 4 missing; 5, 6 held
	must(s.PacketAt(pkt(9, 1), t0, 300))                          // 7, 8 missing; 9 held
	s.Requests(t0.Add(time.Millisecond), func(uint64, uint16) {}) // asks for both
	must(s.PacketAt(pkt(3, 2), t0.Add(2*time.Millisecond), 400))  // fills 3, 4: 3..6 delivered
	s.Expire(t0.Add(2 * time.Second))                             // 7, 8 given up: 9 delivered
	want := "[gap 3+2 gap 7+2 request 3+2 request 7+2 lost 7+2]"
	if fmt.Sprint(events) != want {
		t.Fatalf("events %v, want %s", events, want)
	}
	for seq, w := range map[uint64]int64{1: 100, 2: 100, 3: 400, 4: 400, 5: 200, 6: 200, 9: 300} {
		if rx[seq] != w {
			t.Errorf("message %d delivered with rx %d, want %d (its packet's)", seq, rx[seq], w)
		}
	}
	if len(rx) != 7 {
		t.Fatalf("delivered %v", rx)
	}
}
