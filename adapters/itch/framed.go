package itch

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Meta is where a message came from.
type Meta struct {
	// Seq is the message's sequence number: its 1-based position in a
	// framed file (a full day's file starts at the session's first message,
	// so this is the MoldUDP64 sequence number it had on the wire), or the
	// MoldUDP64 sequence number in a capture (the packet's sequence number
	// plus the message's index in the packet).
	Seq uint64
	// RecvNanos is the capture time of the packet, ns since the Unix epoch
	// (captures only; 0 for files).
	RecvNanos int64
	// Offset is the byte offset of the message's length prefix (files) or
	// of its capture record or block (captures).
	Offset int64
	// Event, when not 0, says this is no message but a live feed's
	// sequence event (record.ControlGap, ControlRequest or ControlLost) of
	// Count messages from Seq, at RecvNanos: the Source passes it on as a
	// control tick in its place in the stream.
	Event byte
	Count uint64
	// Channel is the feed channel the sequence event happened on (its
	// index in the feed's channels; 0 for a one-channel feed): the Source
	// puts it in the control tick's Venue, and the journal keeps it.
	Channel uint16
}

// MessageReader is what a Source reads: FileReader or CaptureReader.
type MessageReader interface {
	// Next returns the next well-formed message and where it came from; it
	// skips and counts refused ones. At the end it returns io.EOF; a
	// truncated or unreadable input is an *Error.
	Next() (Message, Meta, error)
	// Counts returns the messages read and refused so far.
	Counts() *Counts
	// LastRefusal returns the error of the last message or packet refused,
	// or nil: the reason a count went up.
	LastRefusal() error
}

// FileReader reads ITCH messages framed as Nasdaq distributes them: each
// message preceded by its length as a 2-byte big-endian integer.
//
// A frame whose message has an unknown type or the wrong length for its
// type is refused (counted, LastRefusal set) and skipped: the framing says
// where the next one starts. A zero length is refused the same way. The end
// of the input inside a length prefix or a message is ErrTruncated.
type FileReader struct {
	r       *bufio.Reader
	buf     [1 << 16]byte
	pre     [2]byte // the length prefix (a field: a local would escape through io.ReadFull, one allocation a message)
	off     int64
	seq     uint64
	counts  Counts
	refusal error
}

// NewFileReader returns a reader of r.
func NewFileReader(r io.Reader) *FileReader {
	return &FileReader{r: bufio.NewReaderSize(r, 1<<16)}
}

// Next implements MessageReader. The message is valid until the next call.
func (f *FileReader) Next() (Message, Meta, error) {
	for {
		start := f.off
		pre := f.pre[:]
		n, err := io.ReadFull(f.r, pre)
		f.off += int64(n)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Message{}, Meta{}, io.EOF
			}
			return Message{}, Meta{}, readErr(err, start, -1, -1, "in the 2-byte length prefix")
		}
		l := int(binary.BigEndian.Uint16(pre))
		b := f.buf[:l]
		n, err = io.ReadFull(f.r, b)
		f.off += int64(n)
		if err != nil {
			t := -1
			if n > 0 {
				t = int(b[0])
			}
			return Message{}, Meta{}, readErr(err, start, t, l, fmt.Sprintf("%d of %d message bytes", n, l))
		}
		f.seq++ // a refused frame still used a sequence number
		m, err := parseAt(b, start)
		if err != nil {
			f.counts.refuse(err)
			f.refusal = err
			continue
		}
		f.counts.Messages++
		f.counts.ByType[b[0]]++
		return m, Meta{Seq: f.seq, Offset: start}, nil
	}
}

// readErr turns a read failure into an *Error: the end of input is
// ErrTruncated, anything else is the reader's own error.
func readErr(err error, off int64, typ, length int, detail string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = ErrTruncated
	}
	return &Error{Offset: off, Type: typ, Length: length, Err: err, Detail: detail}
}

// Counts implements MessageReader.
func (f *FileReader) Counts() *Counts { return &f.counts }

// LastRefusal implements MessageReader.
func (f *FileReader) LastRefusal() error { return f.refusal }

// Offset returns the bytes consumed so far.
func (f *FileReader) Offset() int64 { return f.off }
