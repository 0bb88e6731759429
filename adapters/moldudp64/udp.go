package moldudp64

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// MaxDatagram is the largest datagram read or written (the UDP maximum).
const MaxDatagram = 65535

// NoServerDeadline is how long a gap stays open without a re-request
// server: long enough for a reordered packet, short enough that messages
// held back behind a gap nobody can fill do not overflow MaxPending at a
// full feed's rate.
const NoServerDeadline = 5 * time.Millisecond

// ReceiverConfig says where a feed comes from.
type ReceiverConfig struct {
	// Listen is the local address of the feed: "host:port" for unicast, or
	// the multicast group's "group:port" when Group is set.
	Listen string
	// Conn, when set, is the feed socket, opened elsewhere (one socket of a
	// SO_REUSEPORT steering group, adapters/moldbpf): Listen, Multicast
	// and Interface are then not used. The receiver closes it when it ends.
	Conn *net.UDPConn
	// Multicast joins Listen's group on Interface (a name such as "eth0";
	// empty: the system's choice).
	Multicast bool
	Interface string
	// Rerequest is the re-request server's address; empty: gaps are not
	// asked for and are given up at the deadline, which then defaults to
	// NoServerDeadline (only a reordered packet can still fill them). A
	// channel may name its own (Channel.Rerequest).
	Rerequest string
	Session   SessionOptions
	// OnError, when set, hears of each refused packet (the session goes on).
	OnError func(error)
	// BusyPoll reads the feed socket with non-blocking reads and
	// runtime.Gosched between them instead of parking in the network
	// poller: for hosts whose loops never park (rings.wait: yield), where
	// the runtime polls the network as rarely as every 10 ms. It keeps a
	// core busy while the feed is quiet.
	BusyPoll bool
}

// Channel is one MoldUDP64 session a Receiver follows: a venue shards its
// symbols over several channels, each its own session with its own
// sequence numbers (and possibly its own re-request server).
type Channel struct {
	// Session is the session's name (at most 10 characters). Empty takes
	// the first session that arrives: only for a receiver of one channel.
	Session string
	// Rerequest is this channel's re-request server ["":
	// ReceiverConfig.Rerequest].
	Rerequest string
	// Deliver gets each of the channel's messages in order, on one of the
	// receiver's goroutines, never two (of any channel) at once.
	Deliver func(seq uint64, msg []byte)
}

// rxChannel is a channel's state in a receiver.
type rxChannel struct {
	name  [SessionLen]byte
	named bool
	s     *Session
	req   *net.UDPConn // re-requests out, retransmissions in (nil without a server)
}

// Receiver reads MoldUDP64 channels from one UDP socket into a Session
// each, sends re-requests for their gaps and reads the answers on a second
// socket per channel, and gives gaps up at the deadline. It is one
// receiving loop: its goroutines take turns under one lock, so the
// sessions it owns are never touched by two at once.
type Receiver struct {
	cfg   ReceiverConfig
	feed  *net.UDPConn
	chans []rxChannel
	mu    sync.Mutex // serialises the sessions between the readers and the timer
	// S is the first channel's session (the only one of a one-channel
	// receiver); Sessions holds every channel's, in the order given.
	S        *Session
	Sessions []*Session
	// StampErr is why kernel receive timestamps (SO_TIMESTAMPNS) are off,
	// or nil: then every datagram carries the kernel's receive time, and
	// otherwise the time the receiver read it.
	StampErr error
	// Stamped and Unstamped count datagrams read with and without a kernel
	// receive timestamp; FeedReads, datagrams read on the feed socket
	// (retransmissions come on the re-request sockets); Unrouted, feed
	// datagrams that belong to none of the receiver's named channels (too
	// short for a header, or another session): refused, counted.
	Stamped, Unstamped, FeedReads, Unrouted atomic.Uint64
	closing                                 atomic.Bool
}

// Listen opens the feed (and re-request) sockets of a one-channel
// receiver that follows whatever session arrives. deliver gets each message
// in order, on one of the receiver's goroutines, never two at once.
func Listen(cfg ReceiverConfig, deliver func(seq uint64, msg []byte)) (*Receiver, error) {
	return ListenChannels(cfg, []Channel{{Deliver: deliver}})
}

// ListenChannels opens the feed socket (or takes cfg.Conn) and a
// re-request socket per channel that has a server, for a receiver of
// chans: each datagram goes to the session its header names.
func ListenChannels(cfg ReceiverConfig, chans []Channel) (*Receiver, error) {
	if len(chans) == 0 {
		return nil, errors.New("moldudp64: a receiver of no channel")
	}
	chans = slices.Clone(chans)
	r := &Receiver{cfg: cfg}
	for i, c := range chans {
		if c.Session == "" && len(chans) > 1 {
			return nil, fmt.Errorf("moldudp64: channel %d of %d has no session name", i, len(chans))
		}
		if len(c.Session) > SessionLen {
			return nil, fmt.Errorf("moldudp64: session %q: longer than %d characters", c.Session, SessionLen)
		}
		for _, o := range chans[:i] {
			if o.Session == c.Session {
				return nil, fmt.Errorf("moldudp64: session %q twice", c.Session)
			}
		}
		opts := cfg.Session
		opts.Name = c.Session
		if c.Rerequest == "" {
			chans[i].Rerequest = cfg.Rerequest
		}
		if chans[i].Rerequest == "" && opts.Deadline == 0 {
			opts.Deadline = NoServerDeadline
		}
		s := NewSession(opts, c.Deliver)
		r.chans = append(r.chans, rxChannel{name: MakeSession(c.Session), named: c.Session != "", s: s})
		r.Sessions = append(r.Sessions, s)
	}
	r.S = r.Sessions[0]
	var err error
	switch {
	case cfg.Conn != nil:
		r.feed = cfg.Conn
	case cfg.Multicast:
		var addr *net.UDPAddr
		if addr, err = net.ResolveUDPAddr("udp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("moldudp64: feed address %q: %w", cfg.Listen, err)
		}
		var ifi *net.Interface
		if cfg.Interface != "" {
			if ifi, err = net.InterfaceByName(cfg.Interface); err != nil {
				return nil, fmt.Errorf("moldudp64: interface %q: %w", cfg.Interface, err)
			}
		}
		r.feed, err = net.ListenMulticastUDP("udp", ifi, addr)
	default:
		var addr *net.UDPAddr
		if addr, err = net.ResolveUDPAddr("udp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("moldudp64: feed address %q: %w", cfg.Listen, err)
		}
		r.feed, err = net.ListenUDP("udp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("moldudp64: listen on %s: %w", cfg.Listen, err)
	}
	_ = r.feed.SetReadBuffer(8 << 20)
	r.StampErr = enableRxStamps(r.feed)
	for i, c := range chans {
		if c.Rerequest == "" {
			continue
		}
		raddr, err := net.ResolveUDPAddr("udp", c.Rerequest)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("moldudp64: re-request address %q: %w", c.Rerequest, err)
		}
		if r.chans[i].req, err = net.DialUDP("udp", nil, raddr); err != nil {
			r.close()
			return nil, fmt.Errorf("moldudp64: re-request socket to %s: %w", c.Rerequest, err)
		}
		if r.StampErr == nil {
			r.StampErr = enableRxStamps(r.chans[i].req)
		}
	}
	return r, nil
}

// Addr is the feed socket's local address (for a test that listened on :0).
func (r *Receiver) Addr() *net.UDPAddr { return r.feed.LocalAddr().(*net.UDPAddr) }

// route returns the channel of a feed datagram: the one its header names
// (-1: none of them). A receiver of one unnamed channel takes every
// datagram: its session names itself after the first and refuses (and
// counts) a foreign or malformed one.
func (r *Receiver) route(p []byte) int {
	if len(r.chans) == 1 && !r.chans[0].named {
		return 0
	}
	if len(p) >= SessionLen {
		for i := range r.chans {
			if [SessionLen]byte(p[:SessionLen]) == r.chans[i].name {
				return i
			}
		}
	}
	return -1
}

// ended reports whether every channel's session has ended.
func (r *Receiver) ended() bool {
	for i := range r.chans {
		if !r.chans[i].s.Ended() {
			return false
		}
	}
	return true
}

// Run reads until ctx ends or every channel's session ends with nothing
// missing, then closes the sockets.
func (r *Receiver) Run(ctx context.Context) error {
	defer r.close()
	done := make(chan struct{})
	var wg sync.WaitGroup
	// read reads socket c: the feed (ch < 0: datagrams routed by their
	// session) or channel ch's re-request socket.
	read := func(c *net.UDPConn, ch int) {
		defer wg.Done()
		buf := make([]byte, MaxDatagram)
		oob := make([]byte, oobLen)
		var busy *busyReader
		if ch < 0 && r.cfg.BusyPoll {
			var err error
			if busy, err = newBusyReader(c, &r.closing); err != nil && r.cfg.OnError != nil {
				r.cfg.OnError(err) // and read through the poller
			}
		}
		for {
			var n, oobn int
			var err error
			if busy != nil {
				n, oobn, err = busy.read(buf, oob)
			} else {
				n, oobn, _, _, err = c.ReadMsgUDPAddrPort(buf, oob)
			}
			if err != nil {
				return // closed
			}
			to := ch
			if ch < 0 {
				r.FeedReads.Add(1)
				if to = r.route(buf[:n]); to < 0 {
					r.Unrouted.Add(1)
					if r.cfg.OnError != nil {
						r.cfg.OnError(fmt.Errorf("%w: a datagram of %d bytes is of none of this receiver's %d sessions", ErrForeignSession, n, len(r.chans)))
					}
					continue
				}
			}
			now := time.Now()
			rx := rxStamp(oob[:oobn])
			if rx != 0 {
				r.Stamped.Add(1)
			} else {
				rx = now.UnixNano()
				r.Unstamped.Add(1)
			}
			r.mu.Lock()
			if perr := r.chans[to].s.PacketAt(buf[:n], now, rx); perr != nil && r.cfg.OnError != nil {
				r.cfg.OnError(perr)
			}
			ended := r.ended()
			r.mu.Unlock()
			if ended {
				select {
				case <-done:
				default:
					close(done)
				}
			}
		}
	}
	wg.Add(1)
	go read(r.feed, -1)
	every := time.Duration(0)
	for i := range r.chans {
		if c := r.chans[i].req; c != nil {
			wg.Add(1)
			go read(c, i)
		}
		if e := r.chans[i].s.opts.RequestEvery / 2; every == 0 || e < every {
			every = e
		}
	}
	tick := time.NewTicker(max(every, time.Millisecond))
	defer tick.Stop()
	var reqBuf []byte
	for {
		select {
		case <-ctx.Done():
			r.close()
			wg.Wait()
			return ctx.Err()
		case <-done:
			r.close()
			wg.Wait()
			return nil
		case now := <-tick.C:
			r.mu.Lock()
			for i := range r.chans {
				c := &r.chans[i]
				if c.req != nil {
					name, _ := c.s.Name()
					c.s.Requests(now, func(seq uint64, count uint16) {
						reqBuf = AppendRequest(reqBuf[:0], name, seq, count)
						_, _ = c.req.Write(reqBuf) // a lost request is asked again
					})
				}
				c.s.Expire(now)
			}
			r.mu.Unlock()
		}
	}
}

// Close closes the receiver's sockets: Run, if running, returns.
func (r *Receiver) Close() { r.close() }

func (r *Receiver) close() {
	r.closing.Store(true)
	if r.feed != nil {
		r.feed.Close()
	}
	for i := range r.chans {
		if c := r.chans[i].req; c != nil {
			c.Close()
		}
	}
}

// Store holds a session's messages by sequence number, for retransmission.
type Store interface {
	// Get returns message seq, or false if it is not (yet) held.
	Get(seq uint64) ([]byte, bool)
}

// MemStore is a Store in memory, filled in sequence order by Add.
type MemStore struct {
	mu    sync.RWMutex
	first uint64
	msgs  [][]byte
}

// NewMemStore returns a store whose first message is sequence number first.
func NewMemStore(first uint64) *MemStore { return &MemStore{first: first} }

// Add appends the next message (copied) and returns its sequence number.
func (m *MemStore) Add(msg []byte) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, append([]byte(nil), msg...))
	return m.first + uint64(len(m.msgs)) - 1
}

// Get implements Store.
func (m *MemStore) Get(seq uint64) ([]byte, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if seq < m.first || seq-m.first >= uint64(len(m.msgs)) {
		return nil, false
	}
	return m.msgs[seq-m.first], true
}

// RetransmitServer answers re-requests of one or more sessions (a
// venue's channels) from a Store each, with as many downstream packets as
// the range needs (at most MaxPayload bytes each), sent to the requester's
// address.
type RetransmitServer struct {
	conn       *net.UDPConn
	sessions   []served
	MaxPayload int // datagram size limit [1400]
	// Answered counts requests answered; Refused, malformed or foreign ones.
	Answered, Refused uint64
	mu                sync.Mutex
}

// served is a session the server answers for.
type served struct {
	session [SessionLen]byte
	store   Store
}

// ListenRetransmit serves session's re-requests on addr ("127.0.0.1:0" in tests).
func ListenRetransmit(addr string, session [SessionLen]byte, store Store) (*RetransmitServer, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", a)
	if err != nil {
		return nil, fmt.Errorf("moldudp64: re-request server on %s: %w", addr, err)
	}
	return &RetransmitServer{conn: c, sessions: []served{{session, store}}, MaxPayload: 1400}, nil
}

// AddSession serves another session's re-requests from store too.
func (s *RetransmitServer) AddSession(session [SessionLen]byte, store Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = append(s.sessions, served{session, store})
}

// Addr is the server's address.
func (s *RetransmitServer) Addr() string { return s.conn.LocalAddr().String() }

// Counts returns requests answered and refused so far.
func (s *RetransmitServer) Counts() (answered, refused uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Answered, s.Refused
}

// storeOf returns the store of session (nil: not served here).
func (s *RetransmitServer) storeOf(session [SessionLen]byte) Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.sessions {
		if v.session == session {
			return v.store
		}
	}
	return nil
}

// Serve answers requests until Close.
func (s *RetransmitServer) Serve() error {
	buf := make([]byte, MaxDatagram)
	var out []byte
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		req, err := ParseRequest(buf[:n])
		var store Store
		if err == nil {
			store = s.storeOf(req.Session)
		}
		if store == nil {
			s.mu.Lock()
			s.Refused++
			s.mu.Unlock()
			continue
		}
		out = answer(out, s.MaxPayload, req, store, func(p []byte) { _, _ = s.conn.WriteToUDP(p, from) })
		s.mu.Lock()
		s.Answered++
		s.mu.Unlock()
	}
}

// answer sends the held messages of req in packets of at most maxPayload.
func answer(buf []byte, maxPayload int, req Request, store Store, send func([]byte)) []byte {
	var count uint16
	flush := func() {
		if count > 0 {
			buf[HeaderLen-2], buf[HeaderLen-1] = byte(count>>8), byte(count)
			send(buf)
		}
		count = 0
	}
	for seq := req.Seq; seq < req.Seq+uint64(req.Count); seq++ {
		msg, ok := store.Get(seq)
		if !ok {
			break
		}
		if count > 0 && (len(buf)+2+len(msg) > maxPayload || count == MaxMessages) {
			flush()
		}
		if count == 0 {
			buf = AppendHeader(buf[:0], req.Session, seq, 0)
		}
		buf = AppendMessage(buf, msg)
		count++
	}
	flush()
	return buf
}

// Close stops Serve.
func (s *RetransmitServer) Close() error { return s.conn.Close() }

// Publisher sends a session's messages as downstream packets to one
// address (unicast or a multicast group), keeping the sequence numbers and
// a copy of every message for retransmission (Store; nil keeps none: a
// benchmark's publisher that no one re-requests from).
type Publisher struct {
	conn       *net.UDPConn
	session    [SessionLen]byte
	Store      *MemStore
	next       uint64
	MaxPayload int // [1400]
	buf        []byte
	count      uint16
	// Unheard counts writes the destination refused (no socket there yet).
	Unheard uint64
}

// Dial returns a publisher of session to addr.
func Dial(addr string, session [SessionLen]byte) (*Publisher, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp", nil, a)
	if err != nil {
		return nil, fmt.Errorf("moldudp64: publish to %s: %w", addr, err)
	}
	return NewPublisher(c, session), nil
}

// NewPublisher returns a publisher of session on a connected socket (one
// opened elsewhere: in another network namespace, say).
func NewPublisher(c *net.UDPConn, session [SessionLen]byte) *Publisher {
	return &Publisher{conn: c, session: session, Store: NewMemStore(1), next: 1, MaxPayload: 1400}
}

// Channel returns a publisher of another session on p's socket: a venue's
// channels from one source address. Closing either closes the socket.
func (p *Publisher) Channel(session [SessionLen]byte) *Publisher {
	return NewPublisher(p.conn, session)
}

// Add queues msg for the current packet (sending the packet first when msg
// would not fit) and returns its sequence number.
func (p *Publisher) Add(msg []byte) (uint64, error) {
	if len(msg) == 0 || len(msg) > MaxDatagram-HeaderLen-2 {
		return 0, fmt.Errorf("moldudp64: message of %d bytes cannot be framed", len(msg))
	}
	if p.count > 0 && (len(p.buf)+2+len(msg) > p.MaxPayload || p.count == MaxMessages) {
		if err := p.Flush(); err != nil {
			return 0, err
		}
	}
	if p.count == 0 {
		p.buf = AppendHeader(p.buf[:0], p.session, p.next, 0)
	}
	p.buf = AppendMessage(p.buf, msg)
	p.count++
	seq := p.next
	if p.Store != nil {
		seq = p.Store.Add(msg)
	}
	p.next = seq + 1
	return seq, nil
}

// Flush sends the queued packet, if any.
func (p *Publisher) Flush() error {
	if p.count == 0 {
		return nil
	}
	p.buf[HeaderLen-2], p.buf[HeaderLen-1] = byte(p.count>>8), byte(p.count)
	p.count = 0
	return p.write(p.buf)
}

// write sends one datagram. A unicast destination with no socket yet
// (ICMP port unreachable, seen as ECONNREFUSED on the next write) is not
// an error for a feed: it publishes whoever listens, as a multicast feed
// does; the datagram is counted in Unheard.
func (p *Publisher) write(b []byte) error {
	_, err := p.conn.Write(b)
	if errors.Is(err, syscall.ECONNREFUSED) {
		p.Unheard++
		return nil
	}
	return err
}

// Take returns the queued packet as it would be sent (a copy) and queues
// nothing: a simulator sends it later with Send, out of order.
func (p *Publisher) Take() []byte {
	if p.count == 0 {
		return nil
	}
	p.buf[HeaderLen-2], p.buf[HeaderLen-1] = byte(p.count>>8), byte(p.count)
	p.count = 0
	return append([]byte(nil), p.buf...)
}

// Send sends a packet Take returned.
func (p *Publisher) Send(pkt []byte) error { return p.write(pkt) }

// Skip queues nothing and sends nothing for the queued packet: its messages
// stay in the store (a re-request gets them) but never reach the wire, as
// a dropped datagram would. For tests and feed-sim's injected gaps.
func (p *Publisher) Skip() { p.count = 0 }

// Heartbeat sends a heartbeat (after flushing), or the end of the session.
func (p *Publisher) Heartbeat(end bool) error {
	if err := p.Flush(); err != nil {
		return err
	}
	var count uint16
	if end {
		count = EndOfSession
	}
	return p.write(AppendHeader(nil, p.session, p.next, count))
}

// Close closes the socket.
func (p *Publisher) Close() error { return p.conn.Close() }
