package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"thunderline/adapters/itch"
	"thunderline/adapters/moldbpf"
	"thunderline/adapters/moldudp64"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
)

// MoldFeed is the live Nasdaq TotalView-ITCH 5.0 feed over MoldUDP64: a
// receiver (unicast or multicast, re-requests for gaps, a deadline) hands
// each message, once and in sequence order, through a ring to the ITCH
// session state (itch.Source) the engine reads ticks from. It ends at the
// feed's end of session or when ctx ends.
type MoldFeed struct {
	recv *moldudp64.Receiver
	rd   *moldReader
	src  *itch.Source
	done chan error
	// xdp counts the feed's packets at the driver (feed.moldudp64.xdp);
	// nil when off or refused (xdpErr says why).
	xdp    *moldbpf.Counter
	xdpErr error
	port   uint16
	xdpMu  sync.Mutex
	xdpEnd *moldbpf.Counts // the counts when the feed ended and the program was detached
}

// moldMsg is one ITCH message crossing from the receiver to the reader,
// or (ev set) one of the session's sequence events.
type moldMsg struct {
	seq   uint64
	rx    int64 // receive time of the message's packet (ns since the epoch)
	count uint64
	ev    byte // record.ControlGap, ControlRequest, ControlLost; 0: a message
	n     uint8
	b     [52]byte // the longest ITCH 5.0 message is 50 bytes
}

// newMsgRing returns the reader side of a live ITCH feed and the push
// function its transport calls with each message, in sequence order, and
// each sequence event where it happens. Calls to push are serialised (the
// receiver's lock).
func newMsgRing() (*moldReader, func(m *moldMsg), error) {
	rg, err := ring.NewSPSC[moldMsg](1 << 16)
	if err != nil {
		return nil, nil, err
	}
	rd := &moldReader{ring: rg}
	push := func(m *moldMsg) {
		for !rg.Push(m) { // the engine is behind: the transport buffers meanwhile
			rd.waits.Add(1)
			time.Sleep(50 * time.Microsecond)
		}
	}
	return rd, push, nil
}

// msgDeliver returns the session's Deliver for push: each message with the
// receive time of its packet.
func msgDeliver(rx func() int64, push func(m *moldMsg)) func(seq uint64, msg []byte) {
	var m moldMsg
	return func(seq uint64, msg []byte) {
		m = moldMsg{seq: seq, rx: rx(), n: uint8(min(len(msg), 255))}
		copy(m.b[:], msg) // a longer one is refused by its length in Next
		push(&m)
	}
}

// feedEvents hooks the session's sequence events to push, in the stream.
func feedEvents(s *moldudp64.Session, push func(m *moldMsg)) {
	ev := func(kind byte) func(from, count uint64) {
		return func(from, count uint64) {
			push(&moldMsg{seq: from, count: count, ev: kind, rx: time.Now().UnixNano()})
		}
	}
	s.OnGap, s.OnRequest, s.OnLost = ev(record.ControlGap), ev(record.ControlRequest), ev(record.ControlLost)
}

// StartMoldFeed opens the feed of the profile's feed.moldudp64 section and
// starts receiving.
func StartMoldFeed(ctx context.Context, f config.MoldFeed, syms *record.Symbols) (*MoldFeed, error) {
	day, err := f.Day()
	if err != nil {
		return nil, err
	}
	rd, push, err := newMsgRing()
	if err != nil {
		return nil, err
	}
	var recv *moldudp64.Receiver
	deliver := msgDeliver(func() int64 { return recv.S.Rx() }, push)
	recv, err = moldudp64.Listen(moldudp64.ReceiverConfig{Listen: f.Listen, Multicast: f.Multicast, Interface: f.Interface,
		Rerequest: f.Rerequest, Session: moldudp64.SessionOptions{JoinLate: f.JoinLate}, BusyPoll: f.BusyPoll != nil && *f.BusyPoll}, deliver)
	if err != nil {
		return nil, err
	}
	feedEvents(recv.S, push)
	rd.bo.NoSleep = f.BusyPoll != nil && *f.BusyPoll
	mf := &MoldFeed{recv: recv, rd: rd, src: itch.NewSource(rd, syms, itch.SourceOptions{Date: day}), done: make(chan error, 1),
		port: uint16(recv.Addr().Port)}
	if f.XDP.Interface != "" {
		mf.xdp, mf.xdpErr = moldbpf.Attach(f.XDP.Interface, moldbpf.Mode(f.XDP.Mode), mf.port)
	}
	go func() {
		err := recv.Run(ctx)
		rd.ended.Store(true)
		if mf.xdp != nil {
			x, err := mf.xdp.Counts(mf.port)
			mf.xdpMu.Lock()
			if err == nil {
				mf.xdpEnd = &x
			}
			mf.xdp.Close()
			mf.xdp = nil
			mf.xdpMu.Unlock()
		}
		mf.done <- err
	}()
	return mf, nil
}

// XDPErr is why the XDP counter asked for is not running (nil: running,
// or not asked for).
func (f *MoldFeed) XDPErr() error { return f.xdpErr }

// Addr is the feed socket's local address.
func (f *MoldFeed) Addr() string { return f.recv.Addr().String() }

// Next implements Source: it waits for messages while the session lasts.
func (f *MoldFeed) Next(dst []record.MarketTick) (int, error) { return f.src.Next(dst) }

// Counts are the ITCH messages by type, the refusals and the session's
// semantics, and the MoldUDP64 session's gaps (WireCounts). Read it once
// the feed has ended: the ITCH counts belong to the reader.
func (f *MoldFeed) Counts() map[string]uint64 {
	c := f.src.Counts()
	m := c.Map()
	for k, v := range f.WireCounts() {
		m[k] = v
	}
	return m
}

// WireCounts are the transport's counts: the MoldUDP64 session's packets,
// gaps, re-requests, recoveries and losses, receive stamps, and the XDP
// counter's view of the wire. Safe from any goroutine (for /metrics).
func (f *MoldFeed) WireCounts() map[string]uint64 {
	m := map[string]uint64{}
	st := &f.recv.S.Stats
	m["mold_packets"] = st.Packets.Load()
	m["mold_messages"] = st.Messages.Load()
	m["mold_recovered"] = st.Recovered.Load()
	m["mold_gaps"] = st.Gaps.Load()
	m["mold_requested"] = st.Requested.Load()
	m["mold_rx_stamped"] = f.recv.Stamped.Load()
	m["mold_feed_datagrams"] = f.recv.FeedReads.Load()
	if n := f.recv.Unstamped.Load(); n > 0 {
		m["mold_rx_unstamped"] = n
	}
	f.xdpMu.Lock()
	x := f.xdpEnd
	if f.xdp != nil {
		if c, err := f.xdp.Counts(f.port); err == nil {
			x = &c
		}
	}
	f.xdpMu.Unlock()
	switch {
	case x != nil:
		// At the driver: xdp_packets - mold_packets were lost in this host
		// (socket buffer, the receiver); xdp_gaps happened on the wire.
		m["xdp_packets"], m["xdp_gaps"], m["xdp_missed"], m["xdp_late"] = x.Packets, x.Gaps, x.Missed, x.Reorders
	case f.xdpErr != nil:
		m["xdp_unavailable"] = 1
	}
	if n := st.Lost.Load(); n > 0 {
		m["mold_lost"] = n
	}
	return m
}

// moldReader is an itch.MessageReader over the ring the receiver fills.
type moldReader struct {
	ring    *ring.SPSC[moldMsg]
	ended   atomic.Bool
	waits   atomic.Uint64 // deliveries that waited for room (the engine behind the feed)
	cur     moldMsg
	bo      ring.Backoff
	counts  itch.Counts
	refusal error
}

// Next returns the next message in sequence order; io.EOF once the session
// (or the run) has ended and everything received was read.
func (m *moldReader) Next() (itch.Message, itch.Meta, error) {
	for {
		if m.ring.Pop(&m.cur) {
			m.bo.Reset()
			if m.cur.ev != 0 {
				return itch.Message{}, itch.Meta{Seq: m.cur.seq, RecvNanos: m.cur.rx, Event: m.cur.ev, Count: m.cur.count}, nil
			}
			msg, err := itch.Parse(m.cur.b[:min(int(m.cur.n), len(m.cur.b))])
			if err != nil || int(m.cur.n) > len(m.cur.b) {
				if err == nil {
					err = fmt.Errorf("itch: message %d of %d bytes: %w", m.cur.seq, m.cur.n, itch.ErrBadLength)
				}
				if errors.Is(err, itch.ErrUnknownType) {
					m.counts.UnknownType++
				} else {
					m.counts.BadLength++
				}
				m.refusal = err
				continue
			}
			m.counts.Messages++
			m.counts.ByType[m.cur.b[0]]++
			return msg, itch.Meta{Seq: m.cur.seq, RecvNanos: m.cur.rx}, nil
		}
		if m.ended.Load() && m.ring.Len() == 0 {
			return itch.Message{}, itch.Meta{}, io.EOF
		}
		m.bo.Wait()
	}
}

func (m *moldReader) Counts() *itch.Counts { return &m.counts }

// Ready reports whether Next would return without waiting: the Source then
// hands a partial batch on rather than wait for the feed to fill it.
func (m *moldReader) Ready() bool        { return m.ring.Len() > 0 || m.ended.Load() }
func (m *moldReader) LastRefusal() error { return m.refusal }
