package moldudp64

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

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

// RetransmitServer answers re-requests of one or more sessions (a
// venue's channels) from a Store each, with as many downstream packets as
// the range needs (at most MaxPayload bytes each), sent to the requester's
// address.
type RetransmitServer struct {
	conn       *net.UDPConn
	sessions   []served
	MaxPayload int // datagram size limit [1400]
	// Answered counts requests answered; Refused, malformed or foreign ones.
	Answered, Refused uint64
	mu                sync.Mutex
}

// served is a session the server answers for.
type served struct {
	session [SessionLen]byte
	store   Store
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
	return &RetransmitServer{conn: c, sessions: []served{{session, store}}, MaxPayload: 1400}, nil
}

// AddSession serves another session's re-requests from store too.
func (s *RetransmitServer) AddSession(session [SessionLen]byte, store Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = append(s.sessions, served{session, store})
}

// Addr is the server's address.
func (s *RetransmitServer) Addr() string { return s.conn.LocalAddr().String() }

// Counts returns requests answered and refused so far.
func (s *RetransmitServer) Counts() (answered, refused uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Answered, s.Refused
}

// storeOf returns the store of session (nil: not served here).
func (s *RetransmitServer) storeOf(session [SessionLen]byte) Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.sessions {
		if v.session == session {
			return v.store
		}
	}
	return nil
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
		var store Store
		if err == nil {
			store = s.storeOf(req.Session)
		}
		if store == nil {
			s.mu.Lock()
			s.Refused++
			s.mu.Unlock()
			continue
		}
		out = answer(out, s.MaxPayload, req, store, func(p []byte) { _, _ = s.conn.WriteToUDP(p, from) })
		s.mu.Lock()
		s.Answered++
		s.mu.Unlock()
	}
}

// answer sends the held messages of req in packets of at most maxPayload.
func answer(buf []byte, maxPayload int, req Request, store Store, send func([]byte)) []byte {
	var count uint16
	flush := func() {
		if count > 0 {
			buf[HeaderLen-2], buf[HeaderLen-1] = byte(count>>8), byte(count)
			send(buf)
		}
		count = 0
	}
	for seq := req.Seq; seq < req.Seq+uint64(req.Count); seq++ {
		msg, ok := store.Get(seq)
		if !ok {
			break
		}
		if count > 0 && (len(buf)+2+len(msg) > maxPayload || count == MaxMessages) {
			flush()
		}
		if count == 0 {
			buf = AppendHeader(buf[:0], req.Session, seq, 0)
		}
		buf = AppendMessage(buf, msg)
		count++
	}
	flush()
	return buf
}

// Close stops Serve.
func (s *RetransmitServer) Close() error { return s.conn.Close() }
