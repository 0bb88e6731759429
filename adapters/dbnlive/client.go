package dbnlive

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// Config says where to connect and what to subscribe to.
type Config struct {
	Addr    string // host:port of the gateway. Required.
	Key     string // API key (never logged; see BucketID). Required.
	Dataset string // e.g. GLBX.MDP3. Required.
	Schema  string // e.g. mbo. Required.
	SType   string // stype_in [raw_symbol]
	Symbols []string
	// Replay asks the gateway for intraday replay from Start (ns since the
	// epoch, inclusive, on ts_event; 0: all it has) before live data: what a
	// reconnecting client asks for. Without it the session is live only.
	Replay bool
	Start  int64
	// Heartbeat asks the gateway for heartbeats at this interval when it has
	// nothing else to send (whole seconds; Databento takes 5 s to 30 min)
	// [0: the gateway's default, 30 s].
	Heartbeat time.Duration
	// Idle is how long the stream may stay silent (no record, no heartbeat)
	// before the session counts as broken [Heartbeat + 5 s, or 35 s].
	Idle time.Duration
	// Timeout bounds the dial and the handshake [10s].
	Timeout time.Duration
}

// String shows the config with the key as its bucket id only, so that a
// config printed with %v or %+v never shows the key.
func (c Config) String() string {
	return fmt.Sprintf("{Addr:%s Key:…%s Dataset:%s Schema:%s SType:%s Symbols:%v Replay:%v Start:%d Heartbeat:%v Idle:%v Timeout:%v}",
		c.Addr, BucketID(c.Key), c.Dataset, c.Schema, c.SType, c.Symbols, c.Replay, c.Start, c.Heartbeat, c.Idle, c.Timeout)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return "dbnlive.Config" + c.String() }

// withDefaults fills the defaults stated on the fields.
func (c Config) withDefaults() Config {
	if c.SType == "" {
		c.SType = "raw_symbol"
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Idle <= 0 {
		c.Idle = 35 * time.Second
		if c.Heartbeat > 0 {
			c.Idle = c.Heartbeat + 5*time.Second
		}
	}
	return c
}

// Conn is an authenticated, started session: Stream yields its DBN bytes
// (metadata, then records). A read of Stream that waits longer than
// Config.Idle fails with a timeout (os.ErrDeadlineExceeded).
type Conn struct {
	c         net.Conn
	Stream    io.Reader
	SessionID string
	Version   string // the gateway's lsg_version
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Dial connects, authenticates, subscribes and starts the session. Its
// errors name the gateway and the key's bucket id, never the key.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	cfg = cfg.withDefaults()
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dbnlive: dial %s: %w", cfg.Addr, err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() }) // a cancelled ctx ends the handshake
	conn, err := handshake(nc, cfg)
	stop()
	if err == nil && ctx.Err() != nil {
		conn, err = nil, ctx.Err()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("dbnlive: %s (key …%s): %w", cfg.Addr, BucketID(cfg.Key), err)
	}
	return conn, nil
}

// handshake runs the protocol on nc up to start_session; cfg has its
// defaults.
func handshake(nc net.Conn, cfg Config) (*Conn, error) {
	nc.SetDeadline(time.Now().Add(cfg.Timeout))
	ic := &idleConn{Conn: nc}
	br := bufio.NewReaderSize(ic, 64<<10)
	expect := func(key string) (map[string]string, error) {
		line, err := readLine(br)
		if err != nil {
			// A protocol error (cut off, too long) or the link's (EOF,
			// timeout: retryable, unlike a gateway saying the wrong thing).
			return nil, fmt.Errorf("waiting for the %s line: %w", key, err)
		}
		f, err := Fields(line)
		if err != nil {
			return nil, fmt.Errorf("waiting for the %s line: %w", key, err)
		}
		if _, ok := f[key]; !ok {
			return nil, fmt.Errorf("%w: want the %s line, got %q", ErrProtocol, key, clip(line))
		}
		return f, nil
	}
	greet, err := expect("lsg_version")
	if err != nil {
		return nil, err
	}
	ch, err := expect("cram")
	if err != nil {
		return nil, err
	}
	if ch["cram"] == "" {
		return nil, fmt.Errorf("%w: an empty challenge (cram=)", ErrProtocol)
	}
	if _, err := io.WriteString(nc, authLine(ch["cram"], cfg)); err != nil {
		return nil, fmt.Errorf("send the auth line: %w", err)
	}
	res, err := expect("success")
	if err != nil {
		return nil, err
	}
	if res["success"] != "1" {
		msg := res["error"]
		if msg == "" {
			msg = "success=" + res["success"] + " without an error"
		}
		return nil, fmt.Errorf("%w: %s", ErrAuth, clip(msg))
	}
	if _, err := io.WriteString(nc, subscriptionLines(cfg)); err != nil {
		return nil, fmt.Errorf("send the subscription: %w", err)
	}
	nc.SetDeadline(time.Time{})
	ic.idle = cfg.Idle
	return &Conn{c: nc, Stream: br, SessionID: res["session_id"], Version: greet["lsg_version"]}, nil
}

// idleConn sets a read deadline before each read once idle is set, so a
// gateway that falls silent (no data, no heartbeat) breaks the session
// instead of hanging it. A read fills a 64 KiB buffer: this is per read
// of the socket, not per record.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if c.idle > 0 {
		c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	}
	return c.Conn.Read(p)
}
