package moldudp64

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// Publisher sends a session's messages as downstream packets to one
// address (unicast or a multicast group), keeping the sequence numbers and
// a copy of every message for retransmission (Store; nil keeps none: a
// benchmark's publisher that no one re-requests from).
type Publisher struct {
	conn       *net.UDPConn
	session    [SessionLen]byte
	Store      *MemStore
	next       uint64
	MaxPayload int // [1400]
	buf        []byte
	count      uint16
	// Unheard counts writes the destination refused (no socket there yet).
	Unheard uint64
}

// Dial returns a publisher of session to addr.
func Dial(addr string, session [SessionLen]byte) (*Publisher, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp", nil, a)
	if err != nil {
		return nil, fmt.Errorf("moldudp64: publish to %s: %w", addr, err)
	}
	return NewPublisher(c, session), nil
}

// NewPublisher returns a publisher of session on a connected socket (one
// opened elsewhere: in another network namespace, say).
func NewPublisher(c *net.UDPConn, session [SessionLen]byte) *Publisher {
	return &Publisher{conn: c, session: session, Store: NewMemStore(1), next: 1, MaxPayload: 1400}
}

// Channel returns a publisher of another session on p's socket: a venue's
// channels from one source address. Closing either closes the socket.
func (p *Publisher) Channel(session [SessionLen]byte) *Publisher {
	return NewPublisher(p.conn, session)
}

// Add queues msg for the current packet (sending the packet first when msg
// would not fit) and returns its sequence number.
func (p *Publisher) Add(msg []byte) (uint64, error) {
	if len(msg) == 0 || len(msg) > MaxDatagram-HeaderLen-2 {
		return 0, fmt.Errorf("moldudp64: message of %d bytes cannot be framed", len(msg))
	}
	if p.count > 0 && (len(p.buf)+2+len(msg) > p.MaxPayload || p.count == MaxMessages) {
		if err := p.Flush(); err != nil {
			return 0, err
		}
	}
	if p.count == 0 {
		p.buf = AppendHeader(p.buf[:0], p.session, p.next, 0)
	}
	p.buf = AppendMessage(p.buf, msg)
	p.count++
	seq := p.next
	if p.Store != nil {
		seq = p.Store.Add(msg)
	}
	p.next = seq + 1
	return seq, nil
}

// Flush sends the queued packet, if any.
func (p *Publisher) Flush() error {
	if p.count == 0 {
		return nil
	}
	p.buf[HeaderLen-2], p.buf[HeaderLen-1] = byte(p.count>>8), byte(p.count)
	p.count = 0
	return p.write(p.buf)
}

// write sends one datagram. A unicast destination with no socket yet
// (ICMP port unreachable, seen as ECONNREFUSED on the next write) is not
// an error for a feed: it publishes whoever listens, as a multicast feed
// does; the datagram is counted in Unheard.
func (p *Publisher) write(b []byte) error {
	_, err := p.conn.Write(b)
	if errors.Is(err, syscall.ECONNREFUSED) {
		p.Unheard++
		return nil
	}
	return err
}

// Take returns the queued packet as it would be sent (a copy) and queues
// nothing: a simulator sends it later with Send, out of order.
func (p *Publisher) Take() []byte {
	if p.count == 0 {
		return nil
	}
	p.buf[HeaderLen-2], p.buf[HeaderLen-1] = byte(p.count>>8), byte(p.count)
	p.count = 0
	return append([]byte(nil), p.buf...)
}

// Send sends a packet Take returned.
func (p *Publisher) Send(pkt []byte) error { return p.write(pkt) }

// Skip queues nothing and sends nothing for the queued packet: its messages
// stay in the store (a re-request gets them) but never reach the wire, as
// a dropped datagram would. For tests and feed-sim's injected gaps.
func (p *Publisher) Skip() { p.count = 0 }

// Heartbeat sends a heartbeat (after flushing), or the end of the session.
func (p *Publisher) Heartbeat(end bool) error {
	if err := p.Flush(); err != nil {
		return err
	}
	var count uint16
	if end {
		count = EndOfSession
	}
	return p.write(AppendHeader(nil, p.session, p.next, count))
}

// Close closes the socket.
func (p *Publisher) Close() error { return p.conn.Close() }
