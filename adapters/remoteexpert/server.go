package remoteexpert

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"

	"thunderline/hotpath/expert"
)

// Server serves one expert.Expert over the protocol, so a model written in
// Go can run in its own process. Each connection has its own goroutine and
// buffers; calls into the expert are serialized by a mutex (an Expert is
// evaluated by one goroutine at a time). A panic in the expert is recovered
// and answered with an abstention. A malformed frame closes its
// connection.
type Server struct {
	e      expert.Expert
	evalMu sync.Mutex

	mu     sync.Mutex
	lns    map[net.Listener]struct{}
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewServer returns a Server for e.
func NewServer(e expert.Expert) *Server {
	return &Server{e: e, lns: make(map[net.Listener]struct{}), conns: make(map[net.Conn]struct{})}
}

// Serve serves e on ln until ln is closed; see Server.
func Serve(ln net.Listener, e expert.Expert) error { return NewServer(e).Serve(ln) }

// Serve accepts connections on ln until it fails or Close is called. It
// returns nil after Close, else the accept error.
func (s *Server) Serve(ln net.Listener) error {
	if !s.register(func() { s.lns[ln] = struct{}{} }) {
		ln.Close()
		return nil
	}
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		tracked := s.register(func() {
			s.conns[conn] = struct{}{}
			s.wg.Add(1) // before Close can wait
		})
		if !tracked {
			conn.Close()
			return nil
		}
		go s.handle(conn)
	}
}

// register runs add under the lock unless the server is closed, and
// reports whether it did.
func (s *Server) register(add func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	add()
	return true
}

// Close stops every Serve, closes every connection and waits for their
// goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) handle(conn net.Conn) {
	defer func() {
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		s.wg.Done()
	}()
	r := bufio.NewReaderSize(conn, 64<<10)
	outDim := s.e.OutDim()
	var (
		hdr   [4]byte
		body  []byte
		feats []float64
		emb   []float32
		in    expert.Input
		out   = expert.Output{Hidden: make([]float32, outDim)}
		wbuf  = make([]byte, 4+replyLen(outDim))
	)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if n < 2 || n > MaxFrame {
			return
		}
		if cap(body) < int(n) {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if body[0] != Version {
			return
		}
		var reply []byte
		switch body[1] {
		case typeHello:
			if n != helloLen {
				return
			}
			reply = appendHelloReply(nil, s.e.Name(), s.e.InDim(), outDim)
		case typeEval:
			id, err := decodeEval(body, &in, &feats, &emb)
			if err != nil {
				return
			}
			if d := s.e.InDim(); d > 0 && len(in.Embedding) != d {
				return
			}
			s.eval(&in, &out)
			reply = putReply(wbuf, id, &out, outDim)
		default:
			return
		}
		if _, err := conn.Write(reply); err != nil {
			return
		}
	}
}

// eval calls the expert, serialized, turning a panic into an abstention.
func (s *Server) eval(in *expert.Input, out *expert.Output) {
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	defer func() {
		if recover() != nil {
			out.SetAbstain()
		}
	}()
	s.e.Eval(in, out)
}
