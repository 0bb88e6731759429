package moldudp64

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
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
