package safetensors

import "math"

// DType is a tensor element type, named as in the safetensors header.
type DType uint8

// The dtypes of the format. The order is the reference implementation's
// (increasing alignment): its writer lays tensors out by descending dtype
// and then by name, and Write does the same.
const (
	BOOL DType = iota + 1
	U8
	I8
	F8E5M2
	F8E4M3
	I16
	U16
	F16
	BF16
	I32
	U32
	F32
	F64
	I64
	U64
)

var dtypeInfo = [...]struct {
	name string
	size int
}{
	BOOL: {"BOOL", 1}, U8: {"U8", 1}, I8: {"I8", 1}, F8E5M2: {"F8_E5M2", 1}, F8E4M3: {"F8_E4M3", 1},
	I16: {"I16", 2}, U16: {"U16", 2}, F16: {"F16", 2}, BF16: {"BF16", 2},
	I32: {"I32", 4}, U32: {"U32", 4}, F32: {"F32", 4},
	F64: {"F64", 8}, I64: {"I64", 8}, U64: {"U64", 8},
}

func (d DType) valid() bool { return d >= BOOL && d <= U64 }

// String is the dtype's header name, e.g. "F32".
func (d DType) String() string {
	if d.valid() {
		return dtypeInfo[d].name
	}
	return "invalid"
}

// Size is the size of one element in bytes (0 for an invalid dtype).
func (d DType) Size() int {
	if d.valid() {
		return dtypeInfo[d].size
	}
	return 0
}

// Float reports whether Tensor can convert the dtype to float32: F32, F64,
// F16 and BF16.
func (d DType) Float() bool { return d == F32 || d == F64 || d == F16 || d == BF16 }

func parseDType(s string) (DType, bool) {
	for d := BOOL; d <= U64; d++ {
		if dtypeInfo[d].name == s {
			return d, true
		}
	}
	return 0, false
}

// f16ToF32 widens an IEEE 754 binary16 value; every value is exact.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	e := uint32(h>>10) & 0x1f
	m := uint32(h) & 0x3ff
	switch {
	case e == 0 && m == 0:
		return math.Float32frombits(sign)
	case e == 0: // subnormal: m·2⁻²⁴, exact in float32
		v := float32(m) * 0x1p-24
		return math.Float32frombits(math.Float32bits(v) | sign)
	case e == 31: // Inf or NaN (payload kept in the top mantissa bits)
		return math.Float32frombits(sign | 0x7f800000 | m<<13)
	}
	return math.Float32frombits(sign | (e+127-15)<<23 | m<<13)
}

// f32ToF16 narrows to binary16 with round-to-nearest-even, as numpy's
// astype(float16) does: overflow gives ±Inf, underflow ±0 or a subnormal,
// and a NaN stays a (quiet) NaN with the top of its payload.
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	e := int(b>>23) & 0xff
	m := b & 0x7fffff
	if e == 0xff {
		if m == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7c00 | 0x200 | uint16(m>>13)
	}
	he := e - 127 + 15 // binary16 biased exponent
	if he >= 31 {
		return sign | 0x7c00
	}
	if he <= 0 { // subnormal or zero in binary16
		if he < -10 { // below 2^-25: rounds to zero
			return sign
		}
		full := m | 0x800000 // implicit bit
		shift := uint(14 - he)
		h := full >> shift
		rem := full & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++ // may carry into the smallest normal: still the right encoding
		}
		return sign | uint16(h)
	}
	h := uint32(he)<<10 | m>>13
	rem := m & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to Inf: still right
	}
	return sign | uint16(h)
}

// bf16ToF32 widens a bfloat16 value; every value is exact.
func bf16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// f32ToBF16 narrows to bfloat16 with round-to-nearest-even (as PyTorch
// does); a NaN stays a quiet NaN.
func f32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
