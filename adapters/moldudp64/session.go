package moldudp64

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// SessionOptions tune a Session. Zero values take the defaults in brackets.
type SessionOptions struct {
	// Name, when set, is the session's name (at most 10 characters): a
	// packet of any other session is refused from the first one on. Empty:
	// the first packet's session names it.
	Name string
	// Start is the first sequence number expected [1]. A receiver joining a
	// running session sets it from the first packet it sees (JoinLate).
	Start uint64
	// JoinLate starts the session at the first packet's sequence number
	// instead of Start (a feed joined mid-session asks for no history).
	JoinLate bool
	// RequestEvery is how long to wait before asking for a missing range
	// again [20ms].
	RequestEvery time.Duration
	// Deadline is how long a gap may stay open before it is given up [500ms].
	Deadline time.Duration
	// MaxPending bounds the messages held back behind a gap [65,536].
	MaxPending int
	// MaxRequest is the most messages asked for in one re-request [512].
	MaxRequest uint16
	// MaxJump refuses a packet more than this many messages ahead of the
	// newest one seen (a corrupt or foreign sequence number) [1<<20].
	MaxJump uint64
}

func (o SessionOptions) withDefaults() SessionOptions {
	if o.Start == 0 {
		o.Start = 1
	}
	if o.RequestEvery <= 0 {
		o.RequestEvery = 20 * time.Millisecond
	}
	if o.Deadline <= 0 {
		o.Deadline = 500 * time.Millisecond
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 1 << 16
	}
	if o.MaxRequest == 0 {
		o.MaxRequest = 512
	}
	if o.MaxJump == 0 {
		o.MaxJump = 1 << 20
	}
	return o
}

// Stats counts what a session saw. Safe to read from any goroutine.
type Stats struct {
	Packets    atomic.Uint64 // accepted packets (data, heartbeat, end)
	Heartbeats atomic.Uint64
	Messages   atomic.Uint64 // messages delivered, in order
	Duplicates atomic.Uint64 // messages already delivered (or given up), dropped
	Gaps       atomic.Uint64 // missing ranges detected
	Requested  atomic.Uint64 // re-requests sent
	Recovered  atomic.Uint64 // messages that filled a gap
	Lost       atomic.Uint64 // messages given up at the deadline
	Overflow   atomic.Uint64 // messages not held back because MaxPending was reached (asked for again)
	Refused    atomic.Uint64 // packets refused: malformed, foreign session, jump
}

// hole is a missing range [from, to) and when it was seen missing.
type hole struct {
	from, to uint64
	since    time.Time
	asked    time.Time
}

// Errors of Session.Packet besides ErrMalformed.
var (
	ErrForeignSession = errors.New("moldudp64: packet of another session")
	ErrJump           = errors.New("moldudp64: sequence number too far ahead")
)

// Session tracks one MoldUDP64 session: it delivers messages in sequence
// order exactly once, detects gaps, says which ranges to re-request, and
// gives a gap up after the deadline. It is not safe for concurrent use: a
// receiver serialises packets and timer calls.
type Session struct {
	opts    SessionOptions
	name    [SessionLen]byte
	named   bool
	next    uint64 // next sequence number to deliver
	high    uint64 // one past the highest sequence number seen
	holes   []hole // missing ranges in [next, high), sorted, disjoint
	pending map[uint64]held
	ended   bool
	rx      int64 // receive time of the packet being taken
	curRx   int64 // receive time of the message being delivered
	// Deliver receives each message in order (msg is only valid during the
	// call). Required.
	Deliver func(seq uint64, msg []byte)
	// OnLost, when set, is told of each range given up at the deadline.
	OnLost func(from, count uint64)
	// OnGap, when set, is told of each missing range when it is first
	// seen; OnRequest of each re-request sent for one (see Requests).
	OnGap     func(from, count uint64)
	OnRequest func(from, count uint64)
	Stats     Stats
}

// held is a message held back behind a gap, with its packet's receive time.
type held struct {
	rx  int64
	msg []byte
}

// NewSession returns a session delivering to deliver.
func NewSession(opts SessionOptions, deliver func(seq uint64, msg []byte)) *Session {
	opts = opts.withDefaults()
	s := &Session{opts: opts, next: opts.Start, high: opts.Start, pending: map[uint64]held{}, Deliver: deliver}
	if opts.Name != "" {
		s.name, s.named = MakeSession(opts.Name), true
	}
	return s
}

// Next is the next sequence number the session will deliver.
func (s *Session) Next() uint64 { return s.next }

// Name is the session's name once a packet has set it.
func (s *Session) Name() ([SessionLen]byte, bool) { return s.name, s.named }

// Ended reports whether an end-of-session packet arrived and everything
// before it was delivered or given up.
func (s *Session) Ended() bool { return s.ended && len(s.holes) == 0 && s.next >= s.high }

// Missing is the number of messages in open gaps.
func (s *Session) Missing() uint64 {
	var n uint64
	for _, h := range s.holes {
		n += h.to - h.from
	}
	return n
}

// Rx is the receive time (ns since the Unix epoch) of the packet that
// carried the message being delivered: valid during a Deliver call. A
// message held back behind a gap keeps its own packet's time.
func (s *Session) Rx() int64 { return s.curRx }

// Packet takes one downstream packet received at now.
func (s *Session) Packet(p []byte, now time.Time) error { return s.PacketAt(p, now, now.UnixNano()) }

// PacketAt takes one downstream packet that the kernel stamped as received
// at rx (ns since the Unix epoch; SO_TIMESTAMPNS), with now for the gap
// timers.
func (s *Session) PacketAt(p []byte, now time.Time, rx int64) error {
	s.rx = rx
	h, err := ParseHeader(p)
	if err != nil {
		s.Stats.Refused.Add(1)
		return err
	}
	if s.named && h.Session != s.name {
		s.Stats.Refused.Add(1)
		return fmt.Errorf("%w: %q, this session is %q", ErrForeignSession, trimSession(h.Session), trimSession(s.name))
	}
	if s.opts.JoinLate && s.Stats.Packets.Load() == 0 && h.Seq > 0 {
		s.next, s.high = h.Seq, h.Seq
	}
	top := h.Seq
	if !h.Heartbeat() && !h.End() {
		top = h.Seq + uint64(h.Count) - 1
	}
	if top > s.high && top-s.high > s.opts.MaxJump {
		s.Stats.Refused.Add(1)
		return fmt.Errorf("%w: packet at %d, newest seen %d (more than %d ahead)", ErrJump, h.Seq, s.high, s.opts.MaxJump)
	}
	h, err = Messages(p, func(seq uint64, msg []byte) { s.message(seq, msg, now) })
	if err != nil {
		s.Stats.Refused.Add(1)
		return err
	}
	s.name, s.named = h.Session, true
	s.Stats.Packets.Add(1)
	if h.Heartbeat() || h.End() {
		// Seq is the next sequence number the publisher will send: anything
		// below it that never came is missing.
		s.Stats.Heartbeats.Add(1)
		s.extend(h.Seq, now)
		if h.End() {
			s.ended = true
		}
	}
	return nil
}

// extend notes that everything below to exists.
func (s *Session) extend(to uint64, now time.Time) {
	if to > s.high {
		s.holes = append(s.holes, hole{from: s.high, to: to, since: now})
		s.Stats.Gaps.Add(1)
		if s.OnGap != nil {
			s.OnGap(s.high, to-s.high)
		}
		s.high = to
	}
}

func (s *Session) message(seq uint64, msg []byte, now time.Time) {
	switch {
	case seq < s.next:
		s.Stats.Duplicates.Add(1)
		return
	case seq >= s.high:
		s.extend(seq, now)
		s.high = seq + 1
	default:
		if !s.fill(seq) {
			s.Stats.Duplicates.Add(1) // held back already
			return
		}
		s.Stats.Recovered.Add(1)
	}
	if seq == s.next {
		s.deliver(seq, msg, s.rx)
		s.flush()
		return
	}
	if len(s.pending) >= s.opts.MaxPending {
		// No room to hold it: it is missing again, and asked for again.
		s.Stats.Overflow.Add(1)
		s.reopen(seq, now)
		return
	}
	s.pending[seq] = held{rx: s.rx, msg: append([]byte(nil), msg...)}
}

// fill removes seq from the hole holding it; false if no hole holds it.
func (s *Session) fill(seq uint64) bool {
	for i := range s.holes {
		h := &s.holes[i]
		if seq < h.from || seq >= h.to {
			continue
		}
		switch {
		case h.to-h.from == 1:
			s.holes = append(s.holes[:i], s.holes[i+1:]...)
		case seq == h.from:
			h.from++
		case seq == h.to-1:
			h.to--
		default:
			rest := hole{from: seq + 1, to: h.to, since: h.since, asked: h.asked}
			h.to = seq
			s.holes = append(s.holes, hole{})
			copy(s.holes[i+2:], s.holes[i+1:])
			s.holes[i+1] = rest
		}
		return true
	}
	return false
}

// reopen marks seq missing again (it could not be held back).
func (s *Session) reopen(seq uint64, now time.Time) {
	i := 0
	for i < len(s.holes) && s.holes[i].to <= seq {
		i++
	}
	if i < len(s.holes) && s.holes[i].from == seq+1 {
		s.holes[i].from = seq
		return
	}
	if i > 0 && s.holes[i-1].to == seq {
		s.holes[i-1].to = seq + 1
		return
	}
	s.holes = append(s.holes, hole{})
	copy(s.holes[i+1:], s.holes[i:])
	s.holes[i] = hole{from: seq, to: seq + 1, since: now}
}

func (s *Session) deliver(seq uint64, msg []byte, rx int64) {
	s.curRx = rx
	s.Deliver(seq, msg)
	s.Stats.Messages.Add(1)
	s.next = seq + 1
}

// flush delivers the held-back messages that are now in order.
func (s *Session) flush() {
	for {
		if len(s.holes) > 0 && s.holes[0].from == s.next {
			return
		}
		h, ok := s.pending[s.next]
		if !ok {
			return
		}
		delete(s.pending, s.next)
		s.deliver(s.next, h.msg, h.rx)
	}
}

// Requests calls ask for each missing range due to be asked for (again) at
// now, at most MaxRequest messages each, oldest first.
func (s *Session) Requests(now time.Time, ask func(seq uint64, count uint16)) {
	for i := range s.holes {
		h := &s.holes[i]
		if !h.asked.IsZero() && now.Sub(h.asked) < s.opts.RequestEvery {
			continue
		}
		h.asked = now
		for from := h.from; from < h.to; {
			n := min(h.to-from, uint64(s.opts.MaxRequest))
			ask(from, uint16(n))
			s.Stats.Requested.Add(1)
			if s.OnRequest != nil {
				s.OnRequest(from, n)
			}
			from += n
		}
	}
}

// Expire gives up the gaps older than the deadline at now, oldest first:
// each is reported to OnLost and counted, and delivery goes on past it.
func (s *Session) Expire(now time.Time) {
	for len(s.holes) > 0 && now.Sub(s.holes[0].since) >= s.opts.Deadline {
		h := s.holes[0]
		s.holes = s.holes[1:]
		n := h.to - h.from
		s.Stats.Lost.Add(n)
		if s.OnLost != nil {
			s.OnLost(h.from, n)
		}
		if h.from == s.next {
			s.next = h.to
			s.flush()
		}
	}
	if len(s.holes) == 0 {
		s.holes = s.holes[:0:0]
	}
}
