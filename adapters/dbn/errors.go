package dbn

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns for bad input is an
// *Error that wraps one of these (or, for a failing io.Reader, the reader's
// own error), so callers branch with errors.Is and log the *Error as is.
var (
	// ErrBadMagic: the input does not start with "DBN" (or the zstd magic).
	ErrBadMagic = errors.New("dbn: bad magic")
	// ErrUnsupportedVersion: the DBN version byte is not 1, 2 or 3.
	ErrUnsupportedVersion = errors.New("dbn: unsupported version")
	// ErrTruncated: the input ended inside the metadata or inside a record.
	ErrTruncated = errors.New("dbn: truncated input")
	// ErrBadMetadata: the metadata header is internally inconsistent, for
	// example a symbol count larger than the declared metadata length.
	ErrBadMetadata = errors.New("dbn: malformed metadata")
	// ErrBadRecord: a record's length is smaller than the record header or
	// than its rtype requires.
	ErrBadRecord = errors.New("dbn: malformed record")
	// ErrCorrupt: the zstd stream could not be decompressed.
	ErrCorrupt = errors.New("dbn: corrupt zstd stream")
	// ErrShortBuffer: Source.Next was given fewer than MaxTicksPerRecord slots.
	ErrShortBuffer = errors.New("dbn: tick buffer too small")
)

// Error is a decoding failure and where it happened. Offset is a byte
// offset in the decompressed DBN stream (0 is the "D" of "DBN"): the start of
// the record for record errors, the failing field for metadata errors.
type Error struct {
	Offset int64
	RType  int    // the record's rtype, or -1 when not known
	Length int    // the record length its header claims, in bytes, or -1
	Detail string // what exactly was wrong
	Err    error  // one of the sentinels above, or the underlying read error
}

func (e *Error) Error() string {
	where := fmt.Sprintf(" at offset %d", e.Offset)
	if e.RType >= 0 {
		where += fmt.Sprintf(" (rtype 0x%02x %s", e.RType, RType(e.RType))
		if e.Length >= 0 {
			where += fmt.Sprintf(", length %d", e.Length)
		}
		where += ")"
	} else if e.Length >= 0 {
		where += fmt.Sprintf(" (length %d)", e.Length)
	}
	if e.Detail == "" {
		return e.Err.Error() + where
	}
	return e.Err.Error() + where + ": " + e.Detail
}

// Unwrap returns the sentinel (or read error) so errors.Is works.
func (e *Error) Unwrap() error { return e.Err }

// metaErr is an error in the metadata header, which has no rtype or length.
func metaErr(sentinel error, off int64, format string, args ...any) *Error {
	return &Error{Offset: off, RType: -1, Length: -1, Detail: fmt.Sprintf(format, args...), Err: sentinel}
}
