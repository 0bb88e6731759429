package moldudp64

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes of the protocol's fields.
const (
	SessionLen = 10
	HeaderLen  = SessionLen + 8 + 2 // session, sequence number, message count
	RequestLen = HeaderLen          // a re-request has the same three fields
	// EndOfSession is the message count of the packet that ends a session.
	EndOfSession = 0xFFFF
	// MaxMessages is the largest message count a data packet may carry.
	MaxMessages = EndOfSession - 1
)

// Header is the fixed part of a downstream packet. Seq is the sequence
// number of the packet's first message (of the next expected message for a
// heartbeat, Count 0, or an end of session, Count EndOfSession).
type Header struct {
	Session [SessionLen]byte
	Seq     uint64
	Count   uint16
}

// Heartbeat reports whether the packet carries no messages and keeps the
// session alive.
func (h Header) Heartbeat() bool { return h.Count == 0 }

// End reports whether the packet ends the session.
func (h Header) End() bool { return h.Count == EndOfSession }

// SessionName is the session as text, trailing spaces removed.
func (h Header) SessionName() string { return trimSession(h.Session) }

func trimSession(s [SessionLen]byte) string {
	n := SessionLen
	for n > 0 && (s[n-1] == ' ' || s[n-1] == 0) {
		n--
	}
	return string(s[:n])
}

// MakeSession pads or cuts name to a session field.
func MakeSession(name string) [SessionLen]byte {
	var s [SessionLen]byte
	for i := range s {
		s[i] = ' '
	}
	copy(s[:], name)
	return s
}

// ErrMalformed is wrapped by every error about a packet's bytes.
var ErrMalformed = errors.New("moldudp64: malformed packet")

// ParseHeader reads the header of a downstream packet.
func ParseHeader(p []byte) (Header, error) {
	var h Header
	if len(p) < HeaderLen {
		return h, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrMalformed, len(p), HeaderLen)
	}
	copy(h.Session[:], p[:SessionLen])
	h.Seq = binary.BigEndian.Uint64(p[SessionLen:])
	h.Count = binary.BigEndian.Uint16(p[SessionLen+8:])
	return h, nil
}

// Messages calls fn with each message of a data packet, in order, with its
// sequence number; msg is a sub-slice of p (valid until p is reused). It
// checks the whole packet before the first call, so fn sees either every
// message or none; an error names the message and the offset where the
// packet went wrong. Heartbeats and end-of-session packets have no messages.
func Messages(p []byte, fn func(seq uint64, msg []byte)) (Header, error) {
	h, err := ParseHeader(p)
	if err != nil {
		return h, err
	}
	if h.Heartbeat() || h.End() {
		if len(p) != HeaderLen {
			return h, fmt.Errorf("%w: %d bytes after a packet of no messages (count %d)", ErrMalformed, len(p)-HeaderLen, h.Count)
		}
		return h, nil
	}
	if h.Seq == 0 || h.Seq > ^uint64(0)-uint64(h.Count) {
		return h, fmt.Errorf("%w: sequence number %d with %d messages", ErrMalformed, h.Seq, h.Count)
	}
	off := HeaderLen
	for i := range int(h.Count) {
		if len(p)-off < 2 {
			return h, fmt.Errorf("%w: message %d of %d: length field at offset %d past the datagram's %d bytes", ErrMalformed, i+1, h.Count, off, len(p))
		}
		n := int(binary.BigEndian.Uint16(p[off:]))
		if n == 0 || len(p)-off-2 < n {
			return h, fmt.Errorf("%w: message %d of %d at offset %d: length %d, %d bytes left", ErrMalformed, i+1, h.Count, off, n, len(p)-off-2)
		}
		off += 2 + n
	}
	if off != len(p) {
		return h, fmt.Errorf("%w: %d bytes after the %d messages", ErrMalformed, len(p)-off, h.Count)
	}
	off = HeaderLen
	for i := range uint64(h.Count) {
		n := int(binary.BigEndian.Uint16(p[off:]))
		fn(h.Seq+i, p[off+2:off+2+n])
		off += 2 + n
	}
	return h, nil
}

// AppendHeader appends a packet header.
func AppendHeader(dst []byte, session [SessionLen]byte, seq uint64, count uint16) []byte {
	dst = append(dst, session[:]...)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	return binary.BigEndian.AppendUint16(dst, count)
}

// AppendMessage appends one message block (length, bytes) to a packet being
// built; the caller sets the header's count. Messages longer than 65,535
// bytes cannot be framed.
func AppendMessage(dst, msg []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(msg)))
	return append(dst, msg...)
}

// Request is a re-request: Count messages from Seq of Session.
type Request = Header

// AppendRequest appends a re-request packet.
func AppendRequest(dst []byte, session [SessionLen]byte, seq uint64, count uint16) []byte {
	return AppendHeader(dst, session, seq, count)
}

// ParseRequest reads a re-request packet.
func ParseRequest(p []byte) (Request, error) {
	if len(p) != RequestLen {
		return Request{}, fmt.Errorf("%w: re-request of %d bytes, want %d", ErrMalformed, len(p), RequestLen)
	}
	r, err := ParseHeader(p)
	if err == nil && (r.Seq == 0 || r.Count == 0 || r.Count == EndOfSession) {
		err = fmt.Errorf("%w: re-request for %d messages from %d", ErrMalformed, r.Count, r.Seq)
	}
	return r, err
}
