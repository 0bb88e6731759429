package dbnlive

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"thunderline/adapters/dbn"
)

// Fault is what the gateway does to one session, for tests: after sending
// After records it resets the connection (as a dropped link does); with
// Close, it closes it cleanly instead (as a restarting gateway does: every
// byte sent arrives); with Stall, it stops sending and keeps the connection
// open (a gateway that falls silent, heartbeats included). Refuse refuses
// the session's handshake whatever the key (success=0).
type Fault struct {
	After  int64
	Close  bool
	Stall  bool
	Refuse bool
}

// Server is a live gateway serving one DBN capture to authenticated
// clients, for tests and feed-sim. Each session gets the capture's
// metadata, then its records — from the subscription's start= on, as
// Databento filters an intraday replay (ts_event >= start; symbol mappings
// always), all of them without one — then a clean close: the capture's end.
// It serves the whole capture whatever schema and symbols are asked for.
type Server struct {
	ln      net.Listener
	key     string
	dataset string
	meta    []byte   // the capture's metadata block
	recs    [][]byte // its records, in order
	ts      []int64  // each record's ts_event
	rtypes  []dbn.RType

	mu     sync.Mutex
	faults []Fault // for the next sessions, in order
	conns  map[net.Conn]struct{}
	closed bool

	// Refused counts sessions refused in the handshake (wrong key or
	// dataset, options it does not serve, lines that are not the protocol);
	// Sessions, sessions started; Faults, faults carried out.
	Refused, Sessions, Faults atomic.Uint64
	wg                        sync.WaitGroup
}

// NewServer serves the DBN capture capture (plain or zstd bytes) as
// dataset to clients that know key, on addr ("127.0.0.1:0" in tests). The
// capture is split into records by adapters/dbn's reader.
func NewServer(addr, key, dataset string, capture []byte) (*Server, error) {
	plain, err := decompress(capture)
	if err != nil {
		return nil, err
	}
	r, err := dbn.NewReader(bytes.NewReader(plain))
	if err != nil {
		return nil, fmt.Errorf("dbnlive: capture: %w", err)
	}
	s := &Server{key: key, dataset: dataset, meta: plain[:r.Offset()], conns: map[net.Conn]struct{}{}}
	for {
		off := r.Offset()
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("dbnlive: capture: %w", err)
		}
		s.recs = append(s.recs, plain[off:off+int64(rec.Len())])
		s.ts = append(s.ts, int64(rec.TsEvent()))
		s.rtypes = append(s.rtypes, rec.RType())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// decompress returns the plain DBN bytes of a capture that may be zstd.
func decompress(b []byte) ([]byte, error) {
	if len(b) < 4 || binary.LittleEndian.Uint32(b) != 0xFD2FB528 {
		return b, nil
	}
	d, err := zstd.NewReader(nil)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	out, err := d.DecodeAll(b, nil)
	if err != nil {
		return nil, fmt.Errorf("dbnlive: capture: %w", err)
	}
	return out, nil
}

// Addr is the gateway's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Records is the number of records the capture holds.
func (s *Server) Records() int { return len(s.recs) }

// Inject makes the next len(f) sessions, in order, carry out f.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, f...)
	s.mu.Unlock()
}

// nextFault is the fault of a session that starts now (zero: none).
func (s *Server) nextFault() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f
}

// Close stops accepting, closes the sessions and waits for them to end.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.session(c)
			c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// session runs one client's session: the handshake, then the stream.
func (s *Server) session(c net.Conn) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	fault := s.nextFault()
	start, err := s.handshake(c, br, fault.Refuse)
	if err != nil {
		s.Refused.Add(1)
		return
	}
	s.Sessions.Add(1)
	c.SetDeadline(time.Time{})
	s.stream(c, br, start, fault)
}

// handshake greets, checks the client's answer and options, and reads the
// subscription up to start_session. start is the replay point (-1: none).
func (s *Server) handshake(c net.Conn, br *bufio.Reader, refuseAll bool) (start int64, err error) {
	var nonce [16]byte
	rand.Read(nonce[:])
	cram := hex.EncodeToString(nonce[:])
	if _, err := fmt.Fprintf(c, "lsg_version=0.0.0-thunderline\ncram=%s\n", cram); err != nil {
		return 0, err
	}
	line, err := readLine(br)
	if err != nil {
		return 0, err
	}
	refuse := func(reason string, err error) (int64, error) {
		fmt.Fprintf(c, "success=0|error=%s\n", reason)
		return 0, fmt.Errorf("%w: %s", err, reason)
	}
	f, err := Fields(line)
	switch {
	case err != nil:
		return refuse("Malformed authentication request.", ErrProtocol)
	case refuseAll:
		s.Faults.Add(1)
		return refuse("Authentication failed.", ErrAuth)
	case f["auth"] != AuthResponse(cram, s.key):
		return refuse("Authentication failed.", ErrAuth)
	case f["dataset"] != s.dataset:
		return refuse("Unknown dataset "+clip(f["dataset"])+".", ErrAuth)
	case f["encoding"] != "" && f["encoding"] != "dbn":
		return refuse("Unsupported encoding "+clip(f["encoding"])+": this gateway sends dbn.", ErrProtocol)
	case f["compression"] != "" && f["compression"] != "none":
		return refuse("Unsupported compression "+clip(f["compression"])+": this gateway sends none.", ErrProtocol)
	case f["ts_out"] != "" && f["ts_out"] != "0":
		return refuse("ts_out is not served by this gateway.", ErrProtocol)
	}
	if _, err := fmt.Fprintf(c, "success=1|session_id=%d\n", s.Sessions.Load()+1); err != nil {
		return 0, err
	}
	start, subs := int64(-1), 0
	for {
		line, err := readLine(br)
		if err != nil {
			return 0, err
		}
		if line == "start_session" { // Databento's clients send it bare
			break
		}
		f, err := Fields(line)
		if err != nil {
			return 0, err
		}
		if _, ok := f["start_session"]; ok {
			break
		}
		if f["schema"] == "" {
			return 0, fmt.Errorf("%w: a subscription without schema: %q", ErrProtocol, clip(line))
		}
		subs++
		if v, ok := f["start"]; ok {
			t, err := strconv.ParseInt(v, 10, 64)
			if err != nil || t < 0 {
				return 0, fmt.Errorf("%w: start=%q is not ns since the epoch", ErrProtocol, clip(v))
			}
			if start < 0 || t < start {
				start = t
			}
		}
	}
	if subs == 0 {
		return 0, fmt.Errorf("%w: start_session without a subscription", ErrProtocol)
	}
	return start, nil
}

// stream sends the metadata and the records from start (-1: all), carrying
// out fault.
func (s *Server) stream(c net.Conn, br *bufio.Reader, start int64, fault Fault) {
	w := bufio.NewWriterSize(c, 64<<10)
	if _, err := w.Write(s.meta); err != nil {
		return
	}
	sent := int64(0)
	for i, r := range s.recs {
		if s.ts[i] < start && s.rtypes[i] != dbn.RTypeSymbolMapping {
			continue // symbol mappings go to every session, as the gateway's do
		}
		if fault.After > 0 && sent == fault.After {
			w.Flush()
			s.Faults.Add(1)
			if fault.Stall {
				io.Copy(io.Discard, br) // silent until the client (or Close) ends it
				return
			}
			if fault.Close {
				return
			}
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset, as a dropped link: not a clean end
			}
			return
		}
		if _, err := w.Write(r); err != nil {
			return
		}
		sent++
	}
	w.Flush()
}
