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

// MoldFeed is the live Nasdaq TotalView-ITCH 5.0 feed over MoldUDP64: one
// or more channels (sessions: a venue shards its symbols over them, each
// with its own sequence numbers, gaps and re-requests) received by one or
// more loops (unicast or multicast, re-requests for gaps, a deadline).
// Each channel hands its messages, once and in its sequence order, through
// its own ring; the reader takes them from the rings in one arrival order
// (the earliest kernel receive stamp at the rings' heads first) into the
// ITCH session state (itch.Source) the engine reads ticks from, so the
// journal holds that order and a replay of it is exact. It ends when every
// channel's session has ended, or when ctx ends.
//
// With feed.moldudp64.steering: ebpf each channel has its own socket of a
// SO_REUSEPORT group on Listen and its own loop (goroutine), and an
// SK_REUSEPORT program (adapters/moldbpf) sends each datagram to the socket
// of the loop that owns its session; otherwise one socket and one loop take
// every channel, by the session each datagram names.
type MoldFeed struct {
	recvs []*moldudp64.Receiver // the receiving loops: one per channel with steering, else one
	sess  []*moldudp64.Session  // by channel
	rd    *moldReader
	src   *itch.Source
	done  chan error
	// group is the steering group (nil: off, or refused: steerErr says why).
	group    *moldbpf.Group
	steerErr error
	// xdp counts the feed's packets at the driver (feed.moldudp64.xdp);
	// nil when off or refused (xdpErr says why).
	xdp    *moldbpf.Counter
	xdpErr error
	port   uint16
	xdpMu  sync.Mutex
	xdpEnd *moldbpf.Counts // the counts when the feed ended and the program was detached
}

// moldMsg is one ITCH message crossing from a channel's receiver to the
// reader, or (ev set) one of the channel's sequence events.
type moldMsg struct {
	seq   uint64
	rx    int64 // receive time of the message's packet (ns since the epoch)
	count uint64
	ch    uint16 // the channel
	ev    byte   // record.ControlGap, ControlRequest, ControlLost; 0: a message
	n     uint8
	b     [52]byte // the longest ITCH 5.0 message is 50 bytes
}

// newMsgRings returns the reader side of a live ITCH feed of n channels
// and, per channel, the push function its transport calls with each of the
// channel's messages, in sequence order, and each sequence event where it
// happens. Calls to one channel's push are serialised (its receiver's
// lock); different channels' run in parallel.
func newMsgRings(n int) (*moldReader, []func(m *moldMsg), error) {
	rd := &moldReader{}
	var pushes []func(m *moldMsg)
	for range n {
		// One SPSC ring a channel, not one shared ring: each loop writes
		// its own with no contention, and the reader picks the order.
		rg, err := ring.NewSPSC[moldMsg](1 << 16)
		if err != nil {
			return nil, nil, err
		}
		rd.rings = append(rd.rings, rg)
		pushes = append(pushes, func(m *moldMsg) {
			for !rg.Push(m) { // the engine is behind: the transport buffers meanwhile
				rd.waits.Add(1)
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
	return rd, pushes, nil
}

// msgDeliver returns channel ch's Deliver for push: each message with the
// receive time of its packet.
func msgDeliver(ch uint16, rx func() int64, push func(m *moldMsg)) func(seq uint64, msg []byte) {
	var m moldMsg
	return func(seq uint64, msg []byte) {
		m = moldMsg{seq: seq, rx: rx(), ch: ch, n: uint8(min(len(msg), 255))}
		copy(m.b[:], msg) // a longer one is refused by its length in Next
		push(&m)
	}
}

// feedEvents hooks channel ch's sequence events to push, in the stream.
func feedEvents(s *moldudp64.Session, ch uint16, push func(m *moldMsg)) {
	ev := func(kind byte) func(from, count uint64) {
		return func(from, count uint64) {
			push(&moldMsg{seq: from, count: count, ev: kind, ch: ch, rx: time.Now().UnixNano()})
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
	chans := f.Channels
	if len(chans) == 0 {
		chans = []config.MoldChannel{{}} // one channel: whatever session arrives
	}
	rd, pushes, err := newMsgRings(len(chans))
	if err != nil {
		return nil, err
	}
	mf := &MoldFeed{rd: rd, done: make(chan error, 1), sess: make([]*moldudp64.Session, len(chans))}
	channel := func(i int) moldudp64.Channel {
		return moldudp64.Channel{Session: chans[i].Session, Rerequest: chans[i].Rerequest,
			Deliver: msgDeliver(uint16(i), func() int64 { return mf.sess[i].Rx() }, pushes[i])}
	}
	busy := f.BusyPoll != nil && *f.BusyPoll
	rcfg := moldudp64.ReceiverConfig{Listen: f.Listen, Multicast: f.Multicast, Interface: f.Interface,
		Rerequest: f.Rerequest, Session: moldudp64.SessionOptions{JoinLate: f.JoinLate}, BusyPoll: busy}
	fail := func(err error) (*MoldFeed, error) {
		mf.close()
		return nil, err
	}
	if f.SteerEBPF() {
		steer := make(map[string]int, len(chans))
		for i, c := range chans {
			steer[c.Session] = i
		}
		if mf.group, mf.steerErr = moldbpf.ListenGroup(f.Listen, len(chans), steer); mf.steerErr == nil {
			for i, conn := range mf.group.Conns {
				c := rcfg
				c.Conn = conn
				r, err := moldudp64.ListenChannels(c, []moldudp64.Channel{channel(i)})
				if err != nil {
					return fail(err)
				}
				mf.recvs = append(mf.recvs, r)
				mf.sess[i] = r.S
			}
		}
	}
	if mf.group == nil {
		cs := make([]moldudp64.Channel, len(chans))
		for i := range chans {
			cs[i] = channel(i)
		}
		r, err := moldudp64.ListenChannels(rcfg, cs)
		if err != nil {
			return fail(err)
		}
		mf.recvs = append(mf.recvs, r)
		copy(mf.sess, r.Sessions)
	}
	for i, s := range mf.sess {
		feedEvents(s, uint16(i), pushes[i])
	}
	rd.bo.NoSleep = busy
	mf.src = itch.NewSource(rd, syms, itch.SourceOptions{Date: day})
	mf.port = uint16(mf.recvs[0].Addr().Port)
	if f.XDP.Interface != "" {
		mf.xdp, mf.xdpErr = moldbpf.Attach(f.XDP.Interface, moldbpf.Mode(f.XDP.Mode), mf.port)
	}
	errs := make(chan error, len(mf.recvs))
	for _, r := range mf.recvs {
		go func() { errs <- r.Run(ctx) }()
	}
	go func() {
		var err error
		for range mf.recvs {
			if e := <-errs; err == nil {
				err = e
			}
		}
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
		if mf.group != nil {
			_ = mf.group.Close() // the receivers closed its sockets; this frees the program and maps
		}
		mf.done <- err
	}()
	return mf, nil
}

// countChannelEvent counts a live feed's sequence event by its channel.
func (p *Pipeline) countChannelEvent(t *record.MarketTick) {
	k := 0
	switch t.Action {
	case record.ControlGap:
	case record.ControlRequest:
		k = 1
	case record.ControlLost:
		k = 2
	default:
		return
	}
	if int(t.Venue) < len(p.chanEvents) {
		p.chanEvents[t.Venue][k].Add(1)
	}
}

// close releases what a StartMoldFeed that failed half-way opened.
func (f *MoldFeed) close() {
	for _, r := range f.recvs {
		r.Close()
	}
	if f.group != nil {
		_ = f.group.Close()
	}
}

// SteerErr is why the eBPF steering asked for (feed.moldudp64.steering:
// ebpf) is not running: the kernel or privileges refused it, and every
// channel is read on one socket by one loop instead. nil: running, or not
// asked for.
func (f *MoldFeed) SteerErr() error { return f.steerErr }

// XDPErr is why the XDP counter asked for is not running (nil: running,
// or not asked for).
func (f *MoldFeed) XDPErr() error { return f.xdpErr }

// Addr is the feed socket's local address (the steering group's port).
func (f *MoldFeed) Addr() string { return f.recvs[0].Addr().String() }

// Next implements Source: it waits for messages while the session lasts.
func (f *MoldFeed) Next(dst []record.MarketTick) (int, error) { return f.src.Next(dst) }

// Counts are the ITCH messages by type, the refusals and the session's
// semantics, and the MoldUDP64 channels' gaps (WireCounts). Read it once
// the feed has ended: the ITCH counts belong to the reader.
func (f *MoldFeed) Counts() map[string]uint64 {
	c := f.src.Counts()
	m := c.Map()
	for k, v := range f.WireCounts() {
		m[k] = v
	}
	return m
}

// WireCounts are the transport's counts: the MoldUDP64 sessions' packets,
// gaps, re-requests, recoveries, losses and refusals (summed, and per
// channel as mold_ch<i>_* when there are several), receive stamps, the
// steering and the XDP counter's view of the wire. Safe from any goroutine
// (for /metrics).
func (f *MoldFeed) WireCounts() map[string]uint64 {
	m := map[string]uint64{}
	for i, s := range f.sess {
		st := &s.Stats
		c := [...]uint64{st.Packets.Load(), st.Messages.Load(), st.Recovered.Load(), st.Gaps.Load(), st.Requested.Load(), st.Lost.Load(), st.Refused.Load()}
		for k, name := range [...]string{"packets", "messages", "recovered", "gaps", "requested", "lost", "refused"} {
			m["mold_"+name] += c[k]
			if len(f.sess) > 1 {
				m[fmt.Sprintf("mold_ch%d_%s", i, name)] = c[k]
			}
		}
	}
	for _, k := range []string{"mold_lost", "mold_refused"} {
		if m[k] == 0 {
			delete(m, k) // only when it happened, as before channels
		}
	}
	var stamped, unstamped, reads, unrouted uint64
	for _, r := range f.recvs {
		stamped += r.Stamped.Load()
		unstamped += r.Unstamped.Load()
		reads += r.FeedReads.Load()
		unrouted += r.Unrouted.Load()
	}
	m["mold_rx_stamped"] = stamped
	m["mold_feed_datagrams"] = reads
	if unstamped > 0 {
		m["mold_rx_unstamped"] = unstamped
	}
	if unrouted > 0 {
		m["mold_unrouted"] = unrouted
	}
	if len(f.sess) > 1 {
		m["mold_channels"] = uint64(len(f.sess))
		m["mold_loops"] = uint64(len(f.recvs))
	}
	if f.steerErr != nil {
		m["steer_unavailable"] = 1
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
	return m
}

// moldReader is an itch.MessageReader over the channels' rings.
type moldReader struct {
	rings   []*ring.SPSC[moldMsg]
	ended   atomic.Bool   // every receiver has ended: nothing more is pushed
	waits   atomic.Uint64 // deliveries that waited for room (the engine behind the feed)
	cur     moldMsg
	bo      ring.Backoff
	counts  itch.Counts
	refusal error
}

// pop takes the next message in arrival order: of the rings' heads, the
// one received first (kernel stamp; the lower channel on a tie). Where
// channels are merged is decided here, once: the journal keeps the order.
func (m *moldReader) pop() bool {
	if len(m.rings) == 1 {
		return m.rings[0].Pop(&m.cur)
	}
	best, rx := -1, int64(0)
	for i, r := range m.rings {
		if h := r.Peek(); h != nil && (best < 0 || h.rx < rx) {
			best, rx = i, h.rx
		}
	}
	return best >= 0 && m.rings[best].Pop(&m.cur)
}

// empty reports whether every ring is empty.
func (m *moldReader) empty() bool {
	for _, r := range m.rings {
		if r.Len() > 0 {
			return false
		}
	}
	return true
}

// Next returns the next message in sequence order; io.EOF once the session
// (or the run) has ended and everything received was read.
func (m *moldReader) Next() (itch.Message, itch.Meta, error) {
	for {
		if m.pop() {
			m.bo.Reset()
			if m.cur.ev != 0 {
				return itch.Message{}, itch.Meta{Seq: m.cur.seq, RecvNanos: m.cur.rx, Event: m.cur.ev, Count: m.cur.count, Channel: m.cur.ch}, nil
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
		if m.ended.Load() && m.empty() {
			return itch.Message{}, itch.Meta{}, io.EOF
		}
		m.bo.Wait()
	}
}

func (m *moldReader) Counts() *itch.Counts { return &m.counts }

// Ready reports whether Next would return without waiting: the Source then
// hands a partial batch on rather than wait for the feed to fill it.
func (m *moldReader) Ready() bool        { return !m.empty() || m.ended.Load() }
func (m *moldReader) LastRefusal() error { return m.refusal }
