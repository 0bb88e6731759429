package itch

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns for bad input is an
// *Error wrapping one of these (or a failing io.Reader's own error), so
// callers branch with errors.Is and log the *Error as is.
var (
	// ErrUnknownType: the message type byte is not one of ITCH 5.0's.
	ErrUnknownType = errors.New("itch: unknown message type")
	// ErrBadLength: a message's length is not its type's fixed length.
	ErrBadLength = errors.New("itch: wrong message length")
	// ErrTruncated: the input ended inside a length prefix or a message, or
	// a MoldUDP64 packet inside its header or a message block.
	ErrTruncated = errors.New("itch: truncated input")
	// ErrBadCapture: a pcap or pcapng capture is malformed (bad magic, a
	// block or record length that does not fit, an unsupported link type).
	ErrBadCapture = errors.New("itch: malformed capture")
	// ErrBadPacket: a captured frame is not a well-formed UDP datagram or
	// MoldUDP64 packet (a header length that does not fit).
	ErrBadPacket = errors.New("itch: malformed packet")
	// ErrShortBuffer: Source.Next was given fewer than MaxTicksPerMessage slots.
	ErrShortBuffer = errors.New("itch: tick buffer too small")
)

// Error is a decoding failure and where it happened. Offset is a byte
// offset in the input: the start of the length prefix of a framed message,
// or the start of the capture record (pcap) or block (pcapng).
type Error struct {
	Offset int64
	Type   int    // the message type byte, or -1 when not known
	Length int    // the length the input claims, in bytes, or -1
	Detail string // what exactly was wrong
	Err    error  // one of the sentinels above, or the underlying read error
}

func (e *Error) Error() string {
	where := fmt.Sprintf(" at offset %d", e.Offset)
	switch {
	case e.Type >= 0 && e.Length >= 0:
		where += fmt.Sprintf(" (type %s, length %d)", TypeName(byte(e.Type)), e.Length)
	case e.Type >= 0:
		where += fmt.Sprintf(" (type %s)", TypeName(byte(e.Type)))
	case e.Length >= 0:
		where += fmt.Sprintf(" (length %d)", e.Length)
	}
	if e.Detail == "" {
		return e.Err.Error() + where
	}
	return e.Err.Error() + where + ": " + e.Detail
}

// Unwrap returns the sentinel (or read error) so errors.Is works.
func (e *Error) Unwrap() error { return e.Err }
