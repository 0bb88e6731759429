package dbnlive

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config says what to subscribe to.
type Config struct {
	Addr    string // host:port of the gateway
	Key     string // API key (never logged; see BucketID)
	Dataset string // e.g. GLBX.MDP3
	Schema  string // e.g. mbo
	SType   string // stype_in [raw_symbol]
	Symbols []string
	// Start, when not 0, asks the gateway to replay from this event time
	// (ns since the epoch): what a reconnecting client asks for.
	Start int64
	// Timeout bounds the dial and each handshake line [10s].
	Timeout time.Duration
}

// Conn is an authenticated, started session: Stream yields its DBN bytes.
type Conn struct {
	c         net.Conn
	Stream    io.Reader
	SessionID string
	Version   string // the gateway's lsg_version
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Dial connects, authenticates, subscribes and starts the session.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.SType == "" {
		cfg.SType = "raw_symbol"
	}
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dbnlive: dial %s: %w", cfg.Addr, err)
	}
	conn, err := handshake(nc, cfg)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("dbnlive: %s (key …%s): %w", cfg.Addr, BucketID(cfg.Key), err)
	}
	return conn, nil
}

func handshake(nc net.Conn, cfg Config) (*Conn, error) {
	nc.SetDeadline(time.Now().Add(cfg.Timeout))
	br := bufio.NewReaderSize(nc, 64<<10)
	expect := func(key string) (map[string]string, error) {
		line, err := readLine(br)
		if err != nil {
			return nil, fmt.Errorf("waiting for %s: %w", key, err)
		}
		f, err := Fields(line)
		if err != nil {
			return nil, err
		}
		if _, ok := f[key]; !ok {
			return nil, fmt.Errorf("%w: want a %s line, got %q", ErrProtocol, key, clip(line))
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
		return nil, fmt.Errorf("%w: an empty challenge", ErrProtocol)
	}
	if _, err := fmt.Fprintf(nc, "auth=%s|dataset=%s|encoding=dbn|ts_out=0\n", AuthResponse(ch["cram"], cfg.Key), cfg.Dataset); err != nil {
		return nil, err
	}
	res, err := expect("success")
	if err != nil {
		return nil, err
	}
	if res["success"] != "1" {
		return nil, fmt.Errorf("%w: %s", ErrAuth, clip(res["error"]))
	}
	sub := "schema=" + cfg.Schema + "|stype_in=" + cfg.SType + "|symbols=" + strings.Join(cfg.Symbols, ",")
	if cfg.Start != 0 {
		sub += "|start=" + strconv.FormatInt(cfg.Start, 10)
	}
	if _, err := fmt.Fprintf(nc, "%s\nstart_session=0\n", sub); err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return &Conn{c: nc, Stream: br, SessionID: res["session_id"], Version: greet["lsg_version"]}, nil
}
