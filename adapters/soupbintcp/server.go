package soupbintcp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Log is one session's sequenced messages: a feed appends, the server
// serves them to every client from the sequence number it asks for. Safe
// for concurrent use.
type Log struct {
	session string
	mu      sync.Mutex
	msgs    [][]byte
	ended   bool
	more    chan struct{} // closed and replaced on every append and at the end
}

// NewLog starts the log of a session (at most 10 characters).
func NewLog(session string) *Log {
	return &Log{session: session[:min(len(session), sessionLen)], more: make(chan struct{})}
}

// Session is the session's name.
func (l *Log) Session() string { return l.session }

// Append adds a message (copied) and returns its sequence number. A
// message must fit a packet (MaxPacket-1 bytes).
func (l *Log) Append(msg []byte) (uint64, error) {
	if len(msg) > MaxPacket-1 {
		return 0, fmt.Errorf("soupbintcp: message of %d bytes: a packet holds at most %d", len(msg), MaxPacket-1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return 0, fmt.Errorf("soupbintcp: session %q has ended", l.session)
	}
	l.msgs = append(l.msgs, append([]byte(nil), msg...))
	close(l.more)
	l.more = make(chan struct{})
	return uint64(len(l.msgs)), nil
}

// End ends the session: clients get an end-of-session packet once they
// have every message.
func (l *Log) End() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended {
		l.ended = true
		close(l.more)
		l.more = make(chan struct{})
	}
}

// Len is the number of messages so far.
func (l *Log) Len() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint64(len(l.msgs))
}

// from returns the messages from seq on, whether the session has ended,
// and a channel closed when there is more.
func (l *Log) from(seq uint64) ([][]byte, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	if seq >= 1 && seq <= uint64(len(l.msgs)) {
		out = l.msgs[seq-1:]
	}
	return out, l.ended, l.more
}

// ServerConfig says whom a server lets in and how it keeps the link.
type ServerConfig struct {
	Log *Log
	// Users: user name → password. A login with another pair is rejected
	// (not authorized).
	Users map[string]string
	// Heartbeat is the idle time after which the server sends a heartbeat
	// [1s]; Timeout how long a client may stay silent [15s].
	Heartbeat, Timeout time.Duration
}

// ServerStats counts a server's traffic.
type ServerStats struct {
	Logins, Rejected, Messages, Beats, BeatsIn, Ended, Dropped atomic.Uint64
	// ProtocolErrors: clients cut off for bytes the protocol does not allow.
	ProtocolErrors atomic.Uint64
}

// Server serves a Log over SoupBinTCP (feed-sim and the tests).
type Server struct {
	cfg   ServerConfig
	ln    net.Listener
	Stats ServerStats
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Listen starts a server on addr ("127.0.0.1:0" for any port).
func Listen(addr string, cfg ServerConfig) (*Server, error) {
	if cfg.Log == nil {
		return nil, errors.New("soupbintcp: server without a log")
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("soupbintcp: listen %s: %w", addr, err)
	}
	s := &Server{cfg: cfg, ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Go(s.accept)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, drops every client and waits for them.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.DropAll()
	s.wg.Wait()
	return err
}

// DropAll cuts every client's connection without an end of session, as a
// failed link does (the tests' way to make clients reconnect).
func (s *Server) DropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
		s.Stats.Dropped.Add(1)
	}
}

func (s *Server) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Go(func() {
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}()
			s.serve(c)
		})
	}
}

// serve runs one client: login, then messages from its sequence number
// on, heartbeats while idle, the end of session once it has everything.
func (s *Server) serve(c net.Conn) {
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(s.cfg.Timeout))
	typ, p, _, err := ReadPacket(r, nil)
	if err != nil {
		return
	}
	if typ != LoginRequest {
		s.Stats.ProtocolErrors.Add(1)
		return
	}
	l, err := ParseLogin(p)
	if err != nil {
		s.Stats.ProtocolErrors.Add(1)
		return
	}
	if pw, ok := s.cfg.Users[l.Username]; !ok || pw != l.Password {
		s.Stats.Rejected.Add(1)
		c.Write(AppendPacket(nil, LoginRejected, []byte{RejectNotAuthorized}))
		return
	}
	if l.Session != "" && l.Session != s.cfg.Log.Session() {
		s.Stats.Rejected.Add(1)
		c.Write(AppendPacket(nil, LoginRejected, []byte{RejectNoSuchSession}))
		return
	}
	next := l.Seq
	if n := s.cfg.Log.Len(); next == 0 || next > n+1 {
		next = n + 1 // from the newest message on
	}
	w := bufio.NewWriterSize(c, 64<<10)
	w.Write(AppendAccepted(nil, s.cfg.Log.Session(), next))
	if w.Flush() != nil {
		return
	}
	s.Stats.Logins.Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.readClient(ctx, cancel, c, r)
	s.send(ctx, c, w, next)
}

// readClient takes the client's heartbeats and logout; silence past the
// timeout, or bytes the protocol does not allow, end the connection.
func (s *Server) readClient(ctx context.Context, cancel func(), c net.Conn, r *bufio.Reader) {
	defer cancel()
	var buf []byte
	for ctx.Err() == nil {
		c.SetReadDeadline(time.Now().Add(s.cfg.Timeout))
		typ, _, grown, err := ReadPacket(r, buf)
		buf = grown
		if err != nil {
			if errors.Is(err, ErrProtocol) {
				s.Stats.ProtocolErrors.Add(1)
			}
			c.Close()
			return
		}
		switch typ {
		case ClientBeat:
			s.Stats.BeatsIn.Add(1)
		case UnsequencedMsg, Debug:
		case LogoutRequest:
			c.Close()
			return
		default:
			s.Stats.ProtocolErrors.Add(1)
			c.Close()
			return
		}
	}
}

// send writes messages from next on as they come, with heartbeats while
// the log is idle, until the session ends or the client goes.
func (s *Server) send(ctx context.Context, c net.Conn, w *bufio.Writer, next uint64) {
	beat := time.NewTimer(s.cfg.Heartbeat)
	defer beat.Stop()
	var pk []byte
	for {
		msgs, ended, more := s.cfg.Log.from(next)
		for _, m := range msgs {
			pk = AppendPacket(pk[:0], SequencedData, m)
			w.Write(pk)
			next++
		}
		if ended && len(msgs) == 0 {
			w.Write(AppendPacket(nil, EndOfSession, nil))
			w.Flush()
			s.Stats.Ended.Add(1)
			return
		}
		c.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
		if w.Flush() != nil {
			return
		}
		// Counted once written to the connection: a dropped client's
		// goroutine may buffer more before its flush fails.
		s.Stats.Messages.Add(uint64(len(msgs)))
		if len(msgs) > 0 {
			beat.Reset(s.cfg.Heartbeat)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-more:
		case <-beat.C:
			w.Write(AppendPacket(nil, ServerBeat, nil))
			s.Stats.Beats.Add(1)
			beat.Reset(s.cfg.Heartbeat)
		}
	}
}
