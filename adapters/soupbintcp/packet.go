package soupbintcp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Packet types.
const (
	Debug          = '+'
	LoginAccepted  = 'A'
	LoginRejected  = 'J'
	SequencedData  = 'S'
	ServerBeat     = 'H'
	EndOfSession   = 'Z'
	LoginRequest   = 'L'
	UnsequencedMsg = 'U'
	ClientBeat     = 'R'
	LogoutRequest  = 'O'
)

// Field widths of the login packets.
const (
	userLen    = 6
	passLen    = 10
	sessionLen = 10
	seqLen     = 20
	loginLen   = userLen + passLen + sessionLen + seqLen
	acceptLen  = sessionLen + seqLen
)

// MaxPacket bounds a packet: its length field (type and payload) is a
// 16-bit number.
const MaxPacket = 1<<16 - 1

// ErrProtocol is wrapped by every error about the peer's bytes.
var ErrProtocol = errors.New("soupbintcp: protocol error")

// AppendPacket appends a packet of type typ and payload.
func AppendPacket(dst []byte, typ byte, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(payload)+1))
	dst = append(dst, typ)
	return append(dst, payload...)
}

// ReadPacket reads one packet into buf (grown as needed, up to MaxPacket)
// and returns its type and payload (a sub-slice of the returned buffer).
func ReadPacket(r io.Reader, buf []byte) (typ byte, payload, grown []byte, err error) {
	var hdr [2]byte
	if _, err = io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, buf, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 {
		return 0, nil, buf, fmt.Errorf("%w: packet of length 0 (no type)", ErrProtocol)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err = io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: connection closed inside a %d-byte packet", ErrProtocol, n)
		}
		return 0, nil, buf, err
	}
	return buf[0], buf[1:], buf, nil
}

// Login is a login request's fields.
type Login struct {
	Username, Password string
	// Session is the session to join ("": the current one).
	Session string
	// Seq is the next sequence number wanted (1: from the start; 0: from
	// the newest message on).
	Seq uint64
}

func padRight(dst []byte, s string, n int) []byte {
	s = s[:min(len(s), n)]
	dst = append(dst, s...)
	return append(dst, strings.Repeat(" ", n-len(s))...)
}

func padLeft(dst []byte, s string, n int) []byte {
	s = s[:min(len(s), n)]
	dst = append(dst, strings.Repeat(" ", n-len(s))...)
	return append(dst, s...)
}

// AppendLogin appends a login request packet.
func AppendLogin(dst []byte, l Login) []byte {
	p := padRight(nil, l.Username, userLen)
	p = padRight(p, l.Password, passLen)
	p = padLeft(p, l.Session, sessionLen)
	p = padLeft(p, strconv.FormatUint(l.Seq, 10), seqLen)
	return AppendPacket(dst, LoginRequest, p)
}

// ParseLogin reads a login request's payload.
func ParseLogin(p []byte) (Login, error) {
	if len(p) != loginLen {
		return Login{}, fmt.Errorf("%w: login request of %d bytes, want %d", ErrProtocol, len(p), loginLen)
	}
	seq, err := parseSeq(p[userLen+passLen+sessionLen:])
	if err != nil {
		return Login{}, err
	}
	return Login{
		Username: strings.TrimRight(string(p[:userLen]), " "),
		Password: strings.TrimRight(string(p[userLen:userLen+passLen]), " "),
		Session:  strings.TrimSpace(string(p[userLen+passLen : userLen+passLen+sessionLen])),
		Seq:      seq,
	}, nil
}

func parseSeq(b []byte) (uint64, error) {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: sequence number %q is not a number", ErrProtocol, s)
	}
	return v, nil
}

// AppendAccepted appends a login accepted packet: the session and the
// sequence number of the next message the server will send.
func AppendAccepted(dst []byte, session string, next uint64) []byte {
	p := padLeft(nil, session, sessionLen)
	p = padLeft(p, strconv.FormatUint(next, 10), seqLen)
	return AppendPacket(dst, LoginAccepted, p)
}

// ParseAccepted reads a login accepted payload.
func ParseAccepted(p []byte) (session string, next uint64, err error) {
	if len(p) != acceptLen {
		return "", 0, fmt.Errorf("%w: login accepted of %d bytes, want %d", ErrProtocol, len(p), acceptLen)
	}
	next, err = parseSeq(p[sessionLen:])
	if err == nil && next == 0 {
		err = fmt.Errorf("%w: login accepted at sequence number 0", ErrProtocol)
	}
	return strings.TrimSpace(string(p[:sessionLen])), next, err
}

// Reject reasons of a login rejected packet.
const (
	RejectNotAuthorized   = 'A'
	RejectNoSuchSession   = 'S'
	rejectReasonUnknown   = "unknown reason"
	rejectReasonAuth      = "not authorized (user name or password)"
	rejectReasonNoSession = "session not available"
)

// ErrRejected is wrapped by a refused login's error.
var ErrRejected = errors.New("soupbintcp: login rejected")

func rejectError(p []byte) error {
	reason := rejectReasonUnknown
	if len(p) == 1 {
		switch p[0] {
		case RejectNotAuthorized:
			reason = rejectReasonAuth
		case RejectNoSuchSession:
			reason = rejectReasonNoSession
		}
	}
	return fmt.Errorf("%w: %s (code %q)", ErrRejected, reason, p)
}
