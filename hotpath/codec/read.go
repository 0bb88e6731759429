package codec

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Reader reads what an Appender wrote. Every read names the field it reads
// (what), for the error. The first error sticks: later reads return zero
// values and leave it in place, so a decoder reads its whole layout and
// checks Err (or End) once.
type Reader struct {
	b       []byte
	off     int
	err     error
	corrupt error
}

// NewReader reads b; every error it reports wraps corrupt.
func NewReader(b []byte, corrupt error) Reader { return Reader{b: b, corrupt: corrupt} }

// Err is the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Off is how many bytes have been read.
func (r *Reader) Off() int { return r.off }

// Left is how many bytes are left.
func (r *Reader) Left() int { return len(r.b) - r.off }

// Failf records an error (wrapping the corrupt sentinel) unless one is
// already recorded.
func (r *Reader) Failf(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{r.corrupt}, args...)...)
	}
}

// End is Err, or an error when bytes are left after the record.
func (r *Reader) End() error {
	if r.err == nil && r.off != len(r.b) {
		r.Failf("%d trailing bytes", len(r.b)-r.off)
	}
	return r.err
}

// take returns the next n bytes, or nil (recording an error) when n is
// negative or more than is left, or after an error.
func (r *Reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.Failf("%s: need %d bytes at offset %d, have %d", what, n, r.off, len(r.b)-r.off)
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

// U8 reads a byte.
func (r *Reader) U8(what string) uint8 {
	if s := r.take(1, what); s != nil {
		return s[0]
	}
	return 0
}

// U16 reads a little-endian u16.
func (r *Reader) U16(what string) uint16 {
	if s := r.take(2, what); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

// U32 reads a little-endian u32.
func (r *Reader) U32(what string) uint32 {
	if s := r.take(4, what); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

// U64 reads a little-endian u64.
func (r *Reader) U64(what string) uint64 {
	if s := r.take(8, what); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

// I64 reads a two's-complement i64.
func (r *Reader) I64(what string) int64 { return int64(r.U64(what)) }

// F32 reads a float32 from its IEEE-754 bits.
func (r *Reader) F32(what string) float32 { return math.Float32frombits(r.U32(what)) }

// F64 reads a float64 from its IEEE-754 bits.
func (r *Reader) F64(what string) float64 { return math.Float64frombits(r.U64(what)) }

// Bool reads a flag byte, refusing anything but 0 and 1 (so an accepted
// record re-encodes to its bytes).
func (r *Reader) Bool(what string) bool {
	v := r.U8(what)
	if v > 1 {
		r.Failf("%s flag %d not 0 or 1", what, v)
	}
	return v == 1
}

// Bytes returns the next n bytes as a sub-slice of the input (capacity cut
// to n, so appending to it never writes over the record), or nil after an
// error.
func (r *Reader) Bytes(n int, what string) []byte { return r.take(n, what) }

// Read fills dst from the next len(dst) bytes: for fixed-size fields. dst
// is left as it is after an error.
func (r *Reader) Read(dst []byte, what string) { copy(dst, r.take(len(dst), what)) }

// Magic reads and checks a record's magic and version byte.
func (r *Reader) Magic(m string, version uint8) {
	s := r.take(len(m)+1, "magic")
	switch {
	case s == nil:
	case string(s[:len(m)]) != m:
		r.Failf("bad magic %q, want %q", s[:len(m)], m)
	case s[len(m)] != version:
		r.Failf("%s version %d, want %d", m, s[len(m)], version)
	}
}

// Name8 reads what Appender.Name8 wrote.
func (r *Reader) Name8(what string) string {
	n := int(r.U8(what))
	return string(r.take(n, what))
}

// Str32 reads what Appender.Str32 wrote for one string.
func (r *Reader) Str32(what string) string {
	n := r.U32(what)
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.Failf("%s: need %d bytes at offset %d, have %d", what, n, r.off, len(r.b)-r.off)
		return ""
	}
	return string(r.take(int(n), what))
}

// Str32s reads what Appender.Str32 wrote for several strings, into dst in
// order.
func (r *Reader) Str32s(what string, dst ...*string) {
	for _, d := range dst {
		*d = r.Str32(what)
	}
}

// Count reads a u32 count of items each at least min (>= 1) bytes long,
// refusing one the bytes left could not hold, so a corrupt count never
// makes a decoder allocate more than the input's size.
func (r *Reader) Count(min int, what string) int {
	n := r.U32(what)
	if r.err == nil && uint64(n) > uint64((len(r.b)-r.off)/min) {
		r.Failf("%s: count %d does not fit in %d bytes", what, n, len(r.b)-r.off)
		return 0
	}
	return int(n)
}

// StrList32 reads what Appender.StrList32 wrote; nil for an empty list.
func (r *Reader) StrList32(what string) []string {
	return ReadList(r, 4, what, func(r *Reader, s *string) { *s = r.Str32(what) })
}

// ReadList reads what AppendList wrote: a count of items each at least min
// bytes long (see Count), then each item as get reads it. It returns nil
// for an empty list or after an error.
func ReadList[T any](r *Reader, min int, what string, get func(r *Reader, item *T)) []T {
	n := r.Count(min, what)
	if n == 0 {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		get(r, &out[i])
	}
	return out
}
