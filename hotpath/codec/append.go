package codec

import (
	"encoding/binary"
	"math"
)

// MaxName8 is the longest string Name8 writes: longer ones are cut.
const MaxName8 = 255

// Appender appends fixed-width little-endian values to B. The zero value
// appends to a nil slice; set B to reuse a buffer.
type Appender struct{ B []byte }

// U8 appends v.
func (a *Appender) U8(v uint8) { a.B = append(a.B, v) }

// U16 appends v, little endian.
func (a *Appender) U16(v uint16) { a.B = binary.LittleEndian.AppendUint16(a.B, v) }

// U32 appends v, little endian.
func (a *Appender) U32(v uint32) { a.B = binary.LittleEndian.AppendUint32(a.B, v) }

// U64 appends v, little endian.
func (a *Appender) U64(v uint64) { a.B = binary.LittleEndian.AppendUint64(a.B, v) }

// I64 appends v as its two's-complement u64.
func (a *Appender) I64(v int64) { a.U64(uint64(v)) }

// F32 appends the IEEE-754 bits of v as a u32.
func (a *Appender) F32(v float32) { a.U32(math.Float32bits(v)) }

// F64 appends the IEEE-754 bits of v as a u64.
func (a *Appender) F64(v float64) { a.U64(math.Float64bits(v)) }

// Bool appends 1 for true, 0 for false.
func (a *Appender) Bool(v bool) {
	if v {
		a.U8(1)
	} else {
		a.U8(0)
	}
}

// Raw appends b as is, with no length: for fixed-size fields (ids, hashes).
func (a *Appender) Raw(b []byte) { a.B = append(a.B, b...) }

// Magic appends the record's magic and its version byte.
func (a *Appender) Magic(m string, version uint8) {
	a.B = append(a.B, m...)
	a.U8(version)
}

// Name8 appends s as len u8, bytes, cut to MaxName8 bytes (for tenants and
// symbol names, which are short). It does what AppendName8 does in place:
// through AppendName8 the window encoding took 1% more instructions.
func (a *Appender) Name8(s string) {
	if len(s) > MaxName8 {
		s = s[:MaxName8]
	}
	a.U8(uint8(len(s)))
	a.B = append(a.B, s...)
}

// AppendName8 is Appender.Name8 on a plain slice: for an encoding built in
// a fixed-size array on the stack, which an Appender (it stores the slice
// through a pointer) would move to the heap.
func AppendName8(dst []byte, s string) []byte {
	if len(s) > MaxName8 {
		s = s[:MaxName8]
	}
	dst = append(dst, uint8(len(s)))
	return append(dst, s...)
}

// Str32 appends each of ss as len u32, bytes.
func (a *Appender) Str32(ss ...string) {
	for _, s := range ss {
		a.U32(uint32(len(s)))
		a.B = append(a.B, s...)
	}
}

// StrList32 appends a list of strings: count u32, then each as Str32.
func (a *Appender) StrList32(ss []string) {
	a.U32(uint32(len(ss)))
	a.Str32(ss...)
}

// AppendList appends a list: count u32, then each item as put writes it.
func AppendList[T any](a *Appender, items []T, put func(a *Appender, item *T)) {
	a.U32(uint32(len(items)))
	for i := range items {
		put(a, &items[i])
	}
}
