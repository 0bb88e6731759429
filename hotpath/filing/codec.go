package filing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt filing record")

type enc struct{ b []byte }

func (e *enc) u8(v uint8)    { e.b = append(e.b, v) }
func (e *enc) u32(v uint32)  { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) i64(v int64)   { e.u64(uint64(v)) }
func (e *enc) f32(v float32) { e.u32(math.Float32bits(v)) }
func (e *enc) str(s string) {
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
}
func (e *enc) strs(ss []string) {
	e.u32(uint32(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) need(n int, what string) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || len(d.b)-d.off < n {
		d.err = fmt.Errorf("%w: %s: need %d bytes at offset %d, have %d", ErrCorrupt, what, n, d.off, len(d.b)-d.off)
		return false
	}
	return true
}
func (d *dec) u8(what string) uint8 {
	if !d.need(1, what) {
		return 0
	}
	d.off++
	return d.b[d.off-1]
}
func (d *dec) u32(what string) uint32 {
	if !d.need(4, what) {
		return 0
	}
	d.off += 4
	return binary.LittleEndian.Uint32(d.b[d.off-4:])
}
func (d *dec) u64(what string) uint64 {
	if !d.need(8, what) {
		return 0
	}
	d.off += 8
	return binary.LittleEndian.Uint64(d.b[d.off-8:])
}
func (d *dec) i64(what string) int64   { return int64(d.u64(what)) }
func (d *dec) f32(what string) float32 { return math.Float32frombits(d.u32(what)) }
func (d *dec) str(what string) string {
	n := int(d.u32(what))
	if !d.need(n, what) {
		return ""
	}
	d.off += n
	return string(d.b[d.off-n : d.off])
}

// count reads a count of items each at least min bytes long, refusing one
// larger than the bytes left could hold.
func (d *dec) count(min int, what string) int {
	n := int(d.u32(what))
	if d.err == nil && n > (len(d.b)-d.off)/min {
		d.err = fmt.Errorf("%w: %s: count %d does not fit in %d bytes", ErrCorrupt, what, n, len(d.b)-d.off)
		return 0
	}
	return n
}
func (d *dec) strs(what string) []string {
	n := d.count(4, what)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str(what)
	}
	return out
}
func (d *dec) magic(m string, version uint8) {
	if !d.need(len(m)+1, "magic") {
		return
	}
	if string(d.b[:len(m)]) != m {
		d.err = fmt.Errorf("%w: bad magic %q, want %q", ErrCorrupt, d.b[:len(m)], m)
		return
	}
	if v := d.b[len(m)]; v != version {
		d.err = fmt.Errorf("%w: %s version %d, want %d", ErrCorrupt, m, v, version)
		return
	}
	d.off = len(m) + 1
}
func (d *dec) end() error {
	if d.err == nil && d.off != len(d.b) {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b)-d.off)
	}
	return d.err
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
