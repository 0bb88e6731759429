package moldudp64

import (
	"context"
	"errors"
	"fmt"
	"net"
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
	// Multicast joins Listen's group on Interface (a name such as "eth0";
	// empty: the system's choice).
	Multicast bool
	Interface string
	// Rerequest is the re-request server's address; empty: gaps are not
	// asked for and are given up at the deadline, which then defaults to
	// NoServerDeadline (only a reordered packet can still fill them).
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

// Receiver reads a MoldUDP64 feed from a UDP socket into a Session, sends
// re-requests for its gaps and reads the answers on a second socket, and
// gives gaps up at the deadline.
type Receiver struct {
	cfg  ReceiverConfig
	feed *net.UDPConn
	req  *net.UDPConn // re-requests out, retransmissions in (nil without a server)
	mu   sync.Mutex   // serialises the session between the two readers and the timer
	S    *Session
	// StampErr is why kernel receive timestamps (SO_TIMESTAMPNS) are off,
	// or nil: then every datagram carries the kernel's receive time, and
	// otherwise the time the receiver read it.
	StampErr error
	// Stamped and Unstamped count datagrams read with and without a kernel
	// receive timestamp; FeedReads, datagrams read on the feed socket
	// (retransmissions come on the re-request socket).
	Stamped, Unstamped, FeedReads atomic.Uint64
	closing                       atomic.Bool
}

// Listen opens the feed (and re-request) sockets. deliver gets each message
// in order, on one of the receiver's goroutines, never two at once.
func Listen(cfg ReceiverConfig, deliver func(seq uint64, msg []byte)) (*Receiver, error) {
	addr, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("moldudp64: feed address %q: %w", cfg.Listen, err)
	}
	if cfg.Rerequest == "" && cfg.Session.Deadline == 0 {
		cfg.Session.Deadline = NoServerDeadline
	}
	r := &Receiver{cfg: cfg, S: NewSession(cfg.Session, deliver)}
	if cfg.Multicast {
		var ifi *net.Interface
		if cfg.Interface != "" {
			if ifi, err = net.InterfaceByName(cfg.Interface); err != nil {
				return nil, fmt.Errorf("moldudp64: interface %q: %w", cfg.Interface, err)
			}
		}
		r.feed, err = net.ListenMulticastUDP("udp", ifi, addr)
	} else {
		r.feed, err = net.ListenUDP("udp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("moldudp64: listen on %s: %w", cfg.Listen, err)
	}
	_ = r.feed.SetReadBuffer(8 << 20)
	r.StampErr = enableRxStamps(r.feed)
	if cfg.Rerequest != "" {
		raddr, err := net.ResolveUDPAddr("udp", cfg.Rerequest)
		if err != nil {
			r.feed.Close()
			return nil, fmt.Errorf("moldudp64: re-request address %q: %w", cfg.Rerequest, err)
		}
		if r.req, err = net.DialUDP("udp", nil, raddr); err != nil {
			r.feed.Close()
			return nil, fmt.Errorf("moldudp64: re-request socket to %s: %w", cfg.Rerequest, err)
		}
		if r.StampErr == nil {
			r.StampErr = enableRxStamps(r.req)
		}
	}
	return r, nil
}

// Addr is the feed socket's local address (for a test that listened on :0).
func (r *Receiver) Addr() *net.UDPAddr { return r.feed.LocalAddr().(*net.UDPAddr) }

// Run reads until ctx ends or the session ends with nothing missing, then
// closes the sockets.
func (r *Receiver) Run(ctx context.Context) error {
	defer r.close()
	done := make(chan struct{})
	var wg sync.WaitGroup
	read := func(c *net.UDPConn) {
		defer wg.Done()
		buf := make([]byte, MaxDatagram)
		oob := make([]byte, oobLen)
		var busy *busyReader
		if c == r.feed && r.cfg.BusyPoll {
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
			if c == r.feed {
				r.FeedReads.Add(1)
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
			if perr := r.S.PacketAt(buf[:n], now, rx); perr != nil && r.cfg.OnError != nil {
				r.cfg.OnError(perr)
			}
			ended := r.S.Ended()
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
	go read(r.feed)
	if r.req != nil {
		wg.Add(1)
		go read(r.req)
	}
	tick := time.NewTicker(max(r.S.opts.RequestEvery/2, time.Millisecond))
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
			if r.req != nil {
				name, _ := r.S.Name()
				r.S.Requests(now, func(seq uint64, count uint16) {
					reqBuf = AppendRequest(reqBuf[:0], name, seq, count)
					_, _ = r.req.Write(reqBuf) // a lost request is asked again
				})
			}
			r.S.Expire(now)
			r.mu.Unlock()
		}
	}
}

func (r *Receiver) close() {
	r.closing.Store(true)
	r.feed.Close()
	if r.req != nil {
		r.req.Close()
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

// RetransmitServer answers re-requests of one session from a Store, each
// with as many downstream packets as the range needs (at most MaxPayload
// bytes each), sent to the requester's address.
type RetransmitServer struct {
	conn       *net.UDPConn
	session    [SessionLen]byte
	store      Store
	MaxPayload int // datagram size limit [1400]
	// Answered counts requests answered; Refused, malformed or foreign ones.
	Answered, Refused uint64
	mu                sync.Mutex
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
	return &RetransmitServer{conn: c, session: session, store: store, MaxPayload: 1400}, nil
}

// Addr is the server's address.
func (s *RetransmitServer) Addr() string { return s.conn.LocalAddr().String() }

// Counts returns requests answered and refused so far.
func (s *RetransmitServer) Counts() (answered, refused uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Answered, s.Refused
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
		if err != nil || req.Session != s.session {
			s.mu.Lock()
			s.Refused++
			s.mu.Unlock()
			continue
		}
		out = s.answer(out, req, func(p []byte) { _, _ = s.conn.WriteToUDP(p, from) })
		s.mu.Lock()
		s.Answered++
		s.mu.Unlock()
	}
}

// answer sends the held messages of req in packets of at most MaxPayload.
func (s *RetransmitServer) answer(buf []byte, req Request, send func([]byte)) []byte {
	var count uint16
	flush := func() {
		if count > 0 {
			buf[HeaderLen-2], buf[HeaderLen-1] = byte(count>>8), byte(count)
			send(buf)
		}
		count = 0
	}
	for seq := req.Seq; seq < req.Seq+uint64(req.Count); seq++ {
		msg, ok := s.store.Get(seq)
		if !ok {
			break
		}
		if count > 0 && (len(buf)+2+len(msg) > s.MaxPayload || count == MaxMessages) {
			flush()
		}
		if count == 0 {
			buf = AppendHeader(buf[:0], s.session, seq, 0)
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
