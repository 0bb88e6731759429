package dbnlive

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

const rtypeSymbolMapping = 0x16

// Server is a live gateway serving one DBN capture to authenticated
// clients, for tests and feed-sim: each session gets the capture's
// metadata, then its records from the subscription's start= on (all of
// them without one), then the connection closes.
type Server struct {
	ln      net.Listener
	key     string
	dataset string
	meta    []byte   // the capture's metadata block
	recs    [][]byte // its records, in order
	ts      []int64  // each record's ts_event
	// CutAfter, when > 0, makes the next session close after sending that
	// many records, as a dropped connection would, and is then cleared.
	CutAfter atomic.Int64
	// Refused counts handshakes refused (wrong key, bad lines); Sessions,
	// sessions served.
	Refused, Sessions atomic.Uint64
	wg                sync.WaitGroup
}

// NewServer serves the DBN capture dbn (plain or zstd bytes) of dataset to
// clients that know key, on addr ("127.0.0.1:0" in tests).
func NewServer(addr, key, dataset string, dbn []byte) (*Server, error) {
	if len(dbn) >= 4 && binary.LittleEndian.Uint32(dbn) == 0xFD2FB528 {
		d, err := zstd.NewReader(nil)
		if err != nil {
			return nil, err
		}
		dbn, err = d.DecodeAll(dbn, nil)
		d.Close()
		if err != nil {
			return nil, fmt.Errorf("dbnlive: capture: %w", err)
		}
	}
	if len(dbn) < 8 || string(dbn[:3]) != "DBN" {
		return nil, errors.New("dbnlive: capture: not DBN")
	}
	mlen := 8 + int(binary.LittleEndian.Uint32(dbn[4:8]))
	if mlen > len(dbn) {
		return nil, errors.New("dbnlive: capture: metadata runs past the end")
	}
	s := &Server{key: key, dataset: dataset, meta: dbn[:mlen]}
	for off := mlen; off < len(dbn); {
		n := int(dbn[off]) * 4
		if n < 16 || off+n > len(dbn) {
			return nil, fmt.Errorf("dbnlive: capture: record at %d of %d bytes", off, n)
		}
		s.recs = append(s.recs, dbn[off:off+n])
		s.ts = append(s.ts, int64(binary.LittleEndian.Uint64(dbn[off+8:])))
		off += n
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

// Addr is the gateway's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Records is the number of records the capture holds.
func (s *Server) Records() int { return len(s.recs) }

// Close stops accepting and waits for the sessions to end.
func (s *Server) Close() error {
	err := s.ln.Close()
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
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			if err := s.session(c); err != nil {
				s.Refused.Add(1)
			}
		}()
	}
}

func (s *Server) session(c net.Conn) error {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var nonce [16]byte
	rand.Read(nonce[:])
	cram := hex.EncodeToString(nonce[:])
	if _, err := fmt.Fprintf(c, "lsg_version=0.0.0-thunderline\ncram=%s\n", cram); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	line, err := readLine(br)
	if err != nil {
		return err
	}
	f, err := Fields(line)
	if err != nil {
		fmt.Fprintf(c, "success=0|error=%s\n", "malformed auth line")
		return err
	}
	if f["auth"] != AuthResponse(cram, s.key) {
		fmt.Fprintf(c, "success=0|error=Authentication failed.\n")
		return ErrAuth
	}
	if f["dataset"] != s.dataset {
		fmt.Fprintf(c, "success=0|error=Unknown dataset %s.\n", clip(f["dataset"]))
		return ErrAuth
	}
	if _, err := fmt.Fprintf(c, "success=1|session_id=%d\n", s.Sessions.Load()+1); err != nil {
		return err
	}
	var start int64
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		f, err := Fields(line)
		if err != nil {
			return err
		}
		if _, ok := f["start_session"]; ok {
			break
		}
		if v, ok := f["start"]; ok {
			if start, err = strconv.ParseInt(v, 10, 64); err != nil {
				return fmt.Errorf("%w: start=%q", ErrProtocol, clip(v))
			}
		}
	}
	s.Sessions.Add(1)
	c.SetDeadline(time.Time{})
	w := bufio.NewWriterSize(c, 64<<10)
	if _, err := w.Write(s.meta); err != nil {
		return nil
	}
	cut := s.CutAfter.Load()
	sent := int64(0)
	for i, r := range s.recs {
		if s.ts[i] < start && r[1] != rtypeSymbolMapping {
			continue // symbol mappings go to every session, as the gateway's do
		}
		if cut > 0 && sent == cut {
			w.Flush()
			s.CutAfter.Store(0)
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset, as a dropped link: not a clean end
			}
			return nil
		}
		if _, err := w.Write(r); err != nil {
			return nil
		}
		sent++
	}
	w.Flush()
	return nil
}
