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

	"github.com/cenkalti/backoff/v5"
)

// ClientConfig says where and how to log in.
type ClientConfig struct {
	Addr               string
	Username, Password string
	// Session to join ("": the server's current one) and the next sequence
	// number wanted [1].
	Session string
	Next    uint64
	// Heartbeat is the idle time after which the client sends a heartbeat
	// [1s]; Timeout is how long the server may stay silent before the link
	// is declared dead [15s, the protocol's usual figure].
	Heartbeat, Timeout time.Duration
	// Dialer, when set, opens the connection (tests).
	Dialer func(ctx context.Context, addr string) (net.Conn, error)
}

func (c ClientConfig) withDefaults() ClientConfig {
	if c.Next == 0 {
		c.Next = 1
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 15 * time.Second
	}
	return c
}

// Stats counts a client's traffic (all its connections, for Follow).
type Stats struct {
	Messages   atomic.Uint64 // sequenced messages delivered
	Beats      atomic.Uint64 // server heartbeats
	BeatsSent  atomic.Uint64
	Debug      atomic.Uint64
	Logins     atomic.Uint64
	Reconnects atomic.Uint64
}

// Errors of a session's end besides ErrProtocol and ErrRejected.
var (
	// ErrTimeout: the server said nothing for Timeout.
	ErrTimeout = errors.New("soupbintcp: server silent past the timeout")
	// ErrEnded is what Follow returns when the server ends the session.
	ErrEnded = errors.New("soupbintcp: end of session")
)

// Client is one logged-in connection.
type Client struct {
	cfg     ClientConfig
	conn    net.Conn
	r       *bufio.Reader
	session string
	next    uint64
	wmu     sync.Mutex
	lastW   atomic.Int64 // unix ns of the last write
	Stats   *Stats
}

// Dial connects and logs in; a refused login is an ErrRejected naming why.
func Dial(ctx context.Context, cfg ClientConfig) (*Client, error) {
	return dial(ctx, cfg.withDefaults(), &Stats{})
}

func dial(ctx context.Context, cfg ClientConfig, st *Stats) (*Client, error) {
	dialer := cfg.Dialer
	if dialer == nil {
		dialer = func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}
	}
	conn, err := dialer(ctx, cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("soupbintcp: connect %s: %w", cfg.Addr, err)
	}
	c := &Client{cfg: cfg, conn: conn, r: bufio.NewReaderSize(conn, 64<<10), Stats: st}
	if err := c.write(AppendLogin(nil, Login{Username: cfg.Username, Password: cfg.Password, Session: cfg.Session, Seq: cfg.Next})); err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(cfg.Timeout))
	var buf []byte
	for {
		typ, p, grown, err := ReadPacket(c.r, buf)
		buf = grown
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("soupbintcp: login to %s: %w", cfg.Addr, err)
		}
		switch typ {
		case Debug:
			st.Debug.Add(1)
			continue
		case LoginAccepted:
			if c.session, c.next, err = ParseAccepted(p); err != nil {
				conn.Close()
				return nil, err
			}
			if cfg.Session != "" && c.session != cfg.Session {
				conn.Close()
				return nil, fmt.Errorf("%w: asked for session %q, accepted into %q", ErrProtocol, cfg.Session, c.session)
			}
			if cfg.Next > 1 && c.next != cfg.Next {
				// A server that resumes elsewhere would lose or repeat messages.
				conn.Close()
				return nil, fmt.Errorf("%w: asked to resume at %d, accepted at %d", ErrProtocol, cfg.Next, c.next)
			}
			st.Logins.Add(1)
			return c, nil
		case LoginRejected:
			conn.Close()
			return nil, rejectError(p)
		default:
			conn.Close()
			return nil, fmt.Errorf("%w: packet type %q before the login was answered", ErrProtocol, typ)
		}
	}
}

// Session is the session logged into; Next the next sequence number.
func (c *Client) Session() string { return c.session }

// Next is the sequence number of the next message to arrive.
func (c *Client) Next() uint64 { return c.next }

func (c *Client) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(c.cfg.Timeout))
	_, err := c.conn.Write(b)
	c.lastW.Store(time.Now().UnixNano())
	return err
}

// Run delivers sequenced messages (msg valid during the call) until the
// server ends the session (nil), ctx ends, or the link fails. It sends a
// heartbeat whenever the client has been quiet for Heartbeat.
func (c *Client) Run(ctx context.Context, deliver func(seq uint64, msg []byte)) error {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(c.cfg.Heartbeat / 2)
		defer t.Stop()
		beat := AppendPacket(nil, ClientBeat, nil)
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				c.conn.Close()
				return
			case <-t.C:
				if time.Since(time.Unix(0, c.lastW.Load())) >= c.cfg.Heartbeat {
					if c.write(beat) == nil {
						c.Stats.BeatsSent.Add(1)
					}
				}
			}
		}
	}()
	var buf []byte
	for {
		c.conn.SetReadDeadline(time.Now().Add(c.cfg.Timeout))
		typ, p, grown, err := ReadPacket(c.r, buf)
		buf = grown
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("%w (%v)", ErrTimeout, c.cfg.Timeout)
			}
			return fmt.Errorf("soupbintcp: session %q at %d: %w", c.session, c.next, err)
		}
		switch typ {
		case SequencedData:
			deliver(c.next, p)
			c.next++
			c.Stats.Messages.Add(1)
		case ServerBeat:
			c.Stats.Beats.Add(1)
		case Debug:
			c.Stats.Debug.Add(1)
		case EndOfSession:
			return nil
		default:
			return fmt.Errorf("%w: unexpected packet type %q in session %q at %d", ErrProtocol, typ, c.session, c.next)
		}
	}
}

// Logout asks the server to end the connection, then closes it.
func (c *Client) Logout() error {
	err := c.write(AppendPacket(nil, LogoutRequest, nil))
	c.conn.Close()
	return err
}

// Close closes the connection without a logout.
func (c *Client) Close() error { return c.conn.Close() }

// Follow logs in and delivers messages until the session ends (ErrEnded) or
// ctx ends, reconnecting with backoff after a failed link and resuming at
// the next sequence number of the same session, so nothing is lost or
// delivered twice. A refused login or a protocol error is not retried.
func Follow(ctx context.Context, cfg ClientConfig, st *Stats, deliver func(seq uint64, msg []byte)) error {
	cfg = cfg.withDefaults()
	if st == nil {
		st = &Stats{}
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = 50*time.Millisecond, 2*time.Second
	for {
		c, err := dial(ctx, cfg, st)
		if err == nil {
			bo.Reset()
			err = c.Run(ctx, deliver)
			c.Close()
			cfg.Session, cfg.Next = c.session, c.next
			if err == nil {
				return ErrEnded
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrRejected) || errors.Is(err, ErrProtocol) {
			return err
		}
		st.Reconnects.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(bo.NextBackOff()):
		}
	}
}
