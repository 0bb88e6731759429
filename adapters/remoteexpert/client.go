package remoteexpert

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"thunderline/hotpath/expert"
	"thunderline/hotpath/window"
)

// KindRemote is the Kind of a Client.
const KindRemote = "remote"

// Config configures a Client. Zero fields take their defaults.
type Config struct {
	// Name is the expert's id.
	Name string
	// Network is "unix" (the default) or, for a loopback TCP server, "tcp".
	Network string
	// Addr is the socket path (or host:port for tcp).
	Addr string
	// InDim and OutDim are the expert's dims as the router sees them
	// (OutDim 0: an action head). The server's must match, checked at every
	// connect.
	InDim, OutDim int
	// Deadline bounds every Eval, a reconnect included. Default 2 ms.
	Deadline time.Duration
	// BackoffMin and BackoffMax bound the wait before reconnecting after a
	// miss: it starts at BackoffMin and doubles with each consecutive miss
	// up to BackoffMax. Calls during the wait abstain at once. Defaults
	// 10 ms and 1 s.
	BackoffMin, BackoffMax time.Duration
}

const (
	defaultDeadline   = 2 * time.Millisecond
	defaultBackoffMin = 10 * time.Millisecond
	defaultBackoffMax = time.Second
	// maxFeatures bounds len(Input.Features) sent; the write buffer is
	// sized for window.NumFeatures and grows (once) up to this.
	maxFeatures = 4096
)

func (c *Config) defaults() {
	c.Network = cmp.Or(c.Network, "unix")
	c.Deadline = cmp.Or(c.Deadline, defaultDeadline)
	c.BackoffMin = cmp.Or(c.BackoffMin, defaultBackoffMin)
	c.BackoffMax = cmp.Or(c.BackoffMax, defaultBackoffMax)
}

// Validate reports the first invalid field, after defaults.
func (c Config) Validate() error {
	c.defaults()
	switch {
	case c.Name == "":
		return errors.New("name: empty")
	case c.Network != "unix" && c.Network != "tcp":
		return fmt.Errorf("network: %q: want unix or tcp", c.Network)
	case c.Addr == "":
		return errors.New("addr: empty")
	case c.InDim < 0 || c.InDim > maxDim:
		return fmt.Errorf("in_dim: %d: want 0..%d", c.InDim, maxDim)
	case c.OutDim < 0 || c.OutDim > maxDim:
		return fmt.Errorf("out_dim: %d: want 0..%d", c.OutDim, maxDim)
	case c.Deadline < 0:
		return fmt.Errorf("deadline: %v: want > 0", c.Deadline)
	case c.BackoffMin < 0:
		return fmt.Errorf("backoff_min: %v: want > 0", c.BackoffMin)
	case c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("backoff_max: %v: want >= backoff_min (%v)", c.BackoffMax, c.BackoffMin)
	}
	return nil
}

// Cause is why a call missed (abstained without an answer from the model).
type Cause uint8

const (
	CauseTimeout   Cause = iota // the deadline passed (dial, write or read)
	CauseConn                   // connection refused, reset, closed (EOF), or another I/O error
	CauseBadReply               // a reply that does not decode or whose values are out of range
	CauseHandshake              // the server's dims differ from the config, or a bad hello reply
	CauseBackoff                // not connected, waiting before the next reconnect
	CauseBadInput               // the input's embedding is not InDim long, or too many features
	CauseClosed                 // Close was called
	numCauses
)

var causeNames = [numCauses]string{"timeout", "conn", "bad_reply", "handshake", "backoff", "bad_input", "closed"}

func (c Cause) String() string {
	if c < numCauses {
		return causeNames[c]
	}
	return "invalid"
}

// Client is an expert.Expert served by another process over a socket. Each
// Eval sends one request and waits for its reply until the deadline; a miss
// (see Cause) makes that call abstain, is counted by cause, and closes the
// connection (so a late reply can never be taken for the next request's).
// The next call after the backoff reconnects, within its own deadline.
//
// Eval takes a mutex held for the call (uncontended in normal use: one
// goroutine calls Eval at a time, as for any Expert); Stats and Close may
// be called from any goroutine. On the normal path Eval does not allocate:
// the request and reply buffers are preallocated, and net.Conn's
// SetDeadline, Write and Read do not allocate (TestClientAllocs measures 0
// allocations per call). Reconnecting and error paths allocate.
type Client struct {
	cfg Config

	mu      sync.Mutex
	conn    net.Conn
	closed  bool
	wbuf    []byte
	rbuf    []byte
	id      uint32
	in      expert.Input // a copy of the input without the embedding, for InDim 0
	retryAt time.Time
	backoff backoff.ExponentialBackOff // reset by an answered call

	calls      atomic.Uint64
	ok         atomic.Uint64
	remoteAbst atomic.Uint64
	misses     [numCauses]atomic.Uint64
	connects   atomic.Uint64
	lastErr    atomic.Pointer[string]
}

// New returns a Client. It does not connect: the first Eval does, within
// its deadline (call Connect first to warm up).
func New(cfg Config) (*Client, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("remote expert %q: %w", cfg.Name, err)
	}
	c := &Client{
		cfg:  cfg,
		wbuf: make([]byte, 4+evalLen(window.NumFeatures, cfg.InDim)),
		rbuf: make([]byte, 4+replyLen(cfg.OutDim)),
		backoff: backoff.ExponentialBackOff{
			InitialInterval:     cfg.BackoffMin,
			RandomizationFactor: 0, // deterministic: exactly min, 2·min, 4·min, ... up to max
			Multiplier:          2,
			MaxInterval:         cfg.BackoffMax,
		},
	}
	c.backoff.Reset()
	return c, nil
}

func (c *Client) Name() string { return c.cfg.Name }
func (c *Client) Kind() string { return KindRemote }
func (c *Client) InDim() int   { return c.cfg.InDim }
func (c *Client) OutDim() int  { return c.cfg.OutDim }

// Config is the client's configuration, with defaults applied.
func (c *Client) Config() Config { return c.cfg }

// Connect dials and handshakes now, waiting at most timeout, instead of on
// the first Eval.
func (c *Client) Connect(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	if c.conn != nil {
		return nil
	}
	cause, err := c.connect(time.Now().Add(timeout))
	if err != nil {
		c.missed(cause, err, time.Now())
	}
	return err
}

// Eval asks the remote expert. It returns within the deadline (plus the
// time to close a socket); on a miss out is the neutral abstention.
func (c *Client) Eval(in *expert.Input, out *expert.Output) {
	c.calls.Add(1)
	c.mu.Lock()
	cause, err := c.eval(in, out)
	if err != nil {
		out.SetAbstain()
		c.missed(cause, err, time.Now())
	}
	c.mu.Unlock()
}

func (c *Client) eval(in *expert.Input, out *expert.Output) (Cause, error) {
	if c.closed {
		return CauseClosed, net.ErrClosed
	}
	if c.cfg.InDim == 0 && len(in.Embedding) > 0 {
		// A model that reads only the features accepts any embedding (the
		// expert.Expert contract for InDim 0): send none.
		c.in = *in
		c.in.Embedding = nil
		in = &c.in
	}
	if len(in.Embedding) != c.cfg.InDim || len(in.Features) > maxFeatures {
		return CauseBadInput, errBadInput
	}
	now := time.Now()
	dl := now.Add(c.cfg.Deadline)
	if c.conn == nil {
		if now.Before(c.retryAt) {
			return CauseBackoff, errBackoff
		}
		if cause, err := c.connect(dl); err != nil {
			return cause, err
		}
	}
	if need := 4 + evalLen(len(in.Features), len(in.Embedding)); need > len(c.wbuf) {
		c.wbuf = make([]byte, need) // more features than window.NumFeatures: grow once
	}
	c.id++
	frame := putEval(c.wbuf, c.id, in)
	if err := c.conn.SetDeadline(dl); err != nil {
		return CauseConn, err
	}
	if _, err := c.conn.Write(frame); err != nil {
		return ioCause(err), err
	}
	// The reply's size is known: read it whole, then check its length field.
	if _, err := io.ReadFull(c.conn, c.rbuf); err != nil {
		return ioCause(err), err
	}
	if binary.LittleEndian.Uint32(c.rbuf) != uint32(len(c.rbuf)-4) {
		return CauseBadReply, errLength
	}
	if err := decodeReply(c.rbuf[4:], c.id, c.cfg.OutDim, out); err != nil {
		return CauseBadReply, err
	}
	c.backoff.Reset()
	c.ok.Add(1)
	if out.Abstain {
		c.remoteAbst.Add(1)
	}
	return 0, nil
}

var (
	errBadInput = errors.New("input embedding length differs from in_dim, or too many features")
	errBackoff  = errors.New("not connected: waiting before reconnecting")
)

func ioCause(err error) Cause {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return CauseTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return CauseTimeout
	}
	return CauseConn
}

// connect dials and handshakes before dl.
func (c *Client) connect(dl time.Time) (Cause, error) {
	d := net.Dialer{Deadline: dl}
	conn, err := d.Dial(c.cfg.Network, c.cfg.Addr)
	if err != nil {
		return ioCause(err), fmt.Errorf("dial %s %s: %w", c.cfg.Network, c.cfg.Addr, err)
	}
	cause, err := c.handshake(conn, dl)
	if err != nil {
		conn.Close()
		return cause, err
	}
	c.conn = conn
	c.connects.Add(1)
	return 0, nil
}

func (c *Client) handshake(conn net.Conn, dl time.Time) (Cause, error) {
	if err := conn.SetDeadline(dl); err != nil {
		return CauseConn, err
	}
	if _, err := conn.Write(appendHello(nil)); err != nil {
		return ioCause(err), fmt.Errorf("hello: %w", err)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		return ioCause(err), fmt.Errorf("hello reply: %w", err)
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > helloReplyHdr+maxNameLen {
		return CauseHandshake, fmt.Errorf("hello reply: %w", errTooLarge)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(conn, body); err != nil {
		return ioCause(err), fmt.Errorf("hello reply: %w", err)
	}
	name, in, out, err := decodeHelloReply(body)
	if err != nil {
		return CauseHandshake, fmt.Errorf("hello reply: %w", err)
	}
	if in != c.cfg.InDim || out != c.cfg.OutDim {
		return CauseHandshake, fmt.Errorf("server expert %q has dims %d→%d, config wants %d→%d",
			name, in, out, c.cfg.InDim, c.cfg.OutDim)
	}
	return 0, nil
}

// missed counts a miss, drops the connection and schedules the reconnect.
func (c *Client) missed(cause Cause, err error, now time.Time) {
	c.misses[cause].Add(1)
	if cause == CauseBackoff || cause == CauseBadInput || cause == CauseClosed {
		return // nothing wrong with the connection (or there is none)
	}
	msg := cause.String() + ": " + err.Error()
	c.lastErr.Store(&msg)
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	c.retryAt = now.Add(c.backoff.NextBackOff())
}

// Close closes the connection; later calls abstain with CauseClosed. It
// waits for a call in progress (at most its deadline).
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn != nil {
		err := c.conn.Close()
		c.conn = nil
		return err
	}
	return nil
}

// Stats is a snapshot of a Client's counters.
type Stats struct {
	Calls         uint64
	OK            uint64 // calls answered by the model (abstaining or not)
	RemoteAbstain uint64 // answered calls in which the model abstained
	Misses        uint64 // calls that abstained without an answer: the sum of ByCause
	ByCause       map[string]uint64
	Connects      uint64 // successful connects (the first one included)
	LastError     string // the last miss other than backoff, bad input or closed
}

// Stats returns a snapshot; safe from any goroutine.
func (c *Client) Stats() Stats {
	s := Stats{
		Calls:         c.calls.Load(),
		OK:            c.ok.Load(),
		RemoteAbstain: c.remoteAbst.Load(),
		Connects:      c.connects.Load(),
		ByCause:       make(map[string]uint64, numCauses),
	}
	for i := range c.misses {
		n := c.misses[i].Load()
		s.ByCause[Cause(i).String()] = n
		s.Misses += n
	}
	if p := c.lastErr.Load(); p != nil {
		s.LastError = *p
	}
	return s
}

// Misses is the number of misses of one cause.
func (c *Client) Misses(cause Cause) uint64 {
	if cause >= numCauses {
		return 0
	}
	return c.misses[cause].Load()
}
