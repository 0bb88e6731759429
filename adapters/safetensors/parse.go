package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"

	"thunderline/adapters/inputfile"
)

// MaxHeaderSize is the largest JSON header accepted, the reference
// implementation's limit (100,000,000 bytes).
const MaxHeaderSize = 100_000_000

const metadataKey = "__metadata__"

// Sentinel errors, wrapped by every *Error.
var (
	ErrTruncated      = errors.New("truncated")
	ErrHeaderTooLarge = errors.New("header too large")
	ErrHeader         = errors.New("bad header")
	ErrTensor         = errors.New("bad tensor")
	ErrNotFound       = errors.New("tensor not found")
	ErrDType          = errors.New("unsupported dtype")
)

// Error is a decoding or lookup error. Tensor names the tensor concerned
// ("" for the file as a whole).
type Error struct {
	Tensor string
	Reason string
	Err    error // a sentinel above
}

func (e *Error) Error() string {
	if e.Tensor != "" {
		return fmt.Sprintf("safetensors: tensor %q: %s (%v)", e.Tensor, e.Reason, e.Err)
	}
	return fmt.Sprintf("safetensors: %s (%v)", e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func errf(sentinel error, tensor, format string, args ...any) *Error {
	return &Error{Tensor: tensor, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// Info describes one tensor of a file.
type Info struct {
	Name  string
	DType DType
	Shape []int
	// Begin and End are the data_offsets: the tensor's bytes are
	// [Begin, End) of the byte buffer that follows the header.
	Begin, End int
}

// Elements is the number of elements (the product of the shape; 1 for a
// scalar of shape []).
func (i *Info) Elements() int { return (i.End - i.Begin) / i.DType.Size() }

// File is a parsed safetensors file. It keeps the bytes it was parsed from
// (Parse does not copy them: do not modify them while the File is in use).
type File struct {
	buf      []byte // the byte buffer after the header
	tensors  []Info // ordered by offset
	index    map[string]int
	metadata map[string]string
}

// DefaultMaxFileSize is LoadOptions.MaxBytes's default: 256 MiB.
const DefaultMaxFileSize = 256 << 20

// LoadOptions bound the files Load reads. Whatever they say, only regular
// files are read (a FIFO, /dev/zero or a directory is refused before it is
// opened), with a limited reader.
type LoadOptions struct {
	// MaxBytes is the largest model file read, in bytes; 0 means
	// DefaultMaxFileSize (256 MiB).
	MaxBytes int64
	// Dir, when set, confines model files to that directory: a relative
	// path is resolved under it, and a path that leaves it (.., an absolute
	// path elsewhere, a symbolic link pointing out) is refused. "" = any
	// path the process can read.
	Dir string
}

// WithDefaults fills the zero fields.
func (o LoadOptions) WithDefaults() LoadOptions {
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxFileSize
	}
	return o
}

// Validate names the bad field.
func (o LoadOptions) Validate() error {
	if o.MaxBytes < 0 {
		return fmt.Errorf("safetensors: MaxBytes: %d is negative", o.MaxBytes)
	}
	return nil
}

// Load reads and parses the file at path with the default LoadOptions.
func Load(path string) (*File, error) { return LoadWith(path, LoadOptions{}) }

// LoadWith reads and parses the file at path within the bounds of o.
// Errors name the path and never echo the file's bytes.
func LoadWith(path string, o LoadOptions) (*File, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	data, err := inputfile.ReadAll(path, inputfile.Options{MaxBytes: o.MaxBytes, Dir: o.Dir, What: "model file"})
	if err != nil {
		return nil, fmt.Errorf("safetensors: load: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return f, nil
}

// Parse decodes and validates a whole safetensors file held in data:
//
//   - 8 bytes: N, the header length, little-endian uint64, at most
//     MaxHeaderSize and within data;
//   - N bytes: a UTF-8 JSON object starting with '{', possibly padded with
//     trailing whitespace: tensor name → {"dtype", "shape", "data_offsets"}
//     and an optional "__metadata__" object of string values;
//   - the byte buffer.
//
// It rejects duplicate names (tensors or metadata keys), unknown dtypes,
// unknown or missing fields, offsets outside the buffer, a shape whose
// element count times the dtype size is not the tensor's byte length (or
// overflows), tensors that overlap or leave a gap, and bytes after the last
// tensor: the reference implementation requires the tensors to tile the
// buffer exactly. Every problem is an *Error naming the tensor. No input
// makes Parse panic.
func Parse(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, errf(ErrTruncated, "", "not a safetensors file (shorter than the 8-byte header length)")
	}
	// These errors, and those of the header until it is known to be a JSON
	// object, say nothing of the bytes read: a name pointing at any file
	// (../../etc/shadow) must not reveal its contents.
	n := binary.LittleEndian.Uint64(data)
	if n > MaxHeaderSize {
		return nil, errf(ErrHeaderTooLarge, "", "not a safetensors file (header length out of range: over the %d-byte limit)", MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, errf(ErrTruncated, "", "not a safetensors file (header length out of range: beyond the end of the file)")
	}
	header := data[8 : 8+n]
	f := &File{buf: data[8+n:], index: make(map[string]int)}
	if err := f.parseHeader(header); err != nil {
		return nil, err
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) parseHeader(h []byte) error {
	if !utf8.Valid(h) {
		return errf(ErrHeader, "", "header is not valid UTF-8")
	}
	if len(h) == 0 || h[0] != '{' {
		return errf(ErrHeader, "", "header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return errf(ErrHeader, "", "header: %v", quiet(err))
	}
	seen := make(map[string]bool)
	for dec.More() {
		name, err := stringToken(dec, "key")
		if err != nil {
			return errf(ErrHeader, "", "header JSON: %v", quiet(err))
		}
		if seen[name] {
			if name == metadataKey {
				return errf(ErrHeader, "", "duplicate %s", metadataKey)
			}
			return errf(ErrHeader, name, "duplicate tensor name")
		}
		seen[name] = true
		if name == metadataKey {
			if f.metadata, err = parseMetadata(dec); err != nil {
				return errf(ErrHeader, "", "%s: %v", metadataKey, quiet(err))
			}
			continue
		}
		info, err := parseInfo(dec)
		if err != nil {
			return errf(ErrTensor, name, "%v", quiet(err))
		}
		info.Name = name
		f.index[name] = len(f.tensors)
		f.tensors = append(f.tensors, info)
	}
	if err := expectDelim(dec, '}'); err != nil {
		return errf(ErrHeader, "", "header: %v", quiet(err))
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return errf(ErrHeader, "", "after the header object: %v", quiet(err))
		}
		return errf(ErrHeader, "", "data (%s) after the header object", tokenKind(tok))
	}
	return nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("got %s, want %q", tokenKind(tok), d)
	}
	return nil
}

// quiet replaces a JSON syntax error, which quotes the offending byte, by
// its offset alone: header errors echo nothing of the file's bytes.
func quiet(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at header byte %d", se.Offset)
	}
	return err
}

// tokenKind names the kind of a JSON token without its value.
func tokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", rune(t))
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a token"
}

// stringToken reads the next token, which must be a string; what names it
// in the error.
func stringToken(dec *json.Decoder, what string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%s is %s, not a string", what, tokenKind(tok))
	}
	return s, nil
}

func parseMetadata(dec *json.Decoder) (map[string]string, error) {
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	m := make(map[string]string)
	for dec.More() {
		key, err := stringToken(dec, "key")
		if err != nil {
			return nil, err
		}
		val, err := stringToken(dec, "value")
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", key, err)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		m[key] = val
	}
	return m, expectDelim(dec, '}')
}

// parseInfo reads one tensor entry: exactly dtype, shape and data_offsets.
func parseInfo(dec *json.Decoder) (Info, error) {
	var info Info
	if err := expectDelim(dec, '{'); err != nil {
		return info, err
	}
	fields := []string{"dtype", "shape", "data_offsets"}
	have := make(map[string]bool, len(fields))
	for dec.More() {
		key, err := stringToken(dec, "key")
		if err != nil {
			return info, err
		}
		if have[key] {
			return info, fmt.Errorf("duplicate %s", key)
		}
		have[key] = true
		switch key {
		case "dtype":
			s, err := stringToken(dec, "dtype")
			if err != nil {
				return info, err
			}
			var ok bool
			if info.DType, ok = parseDType(s); !ok {
				return info, fmt.Errorf("unknown dtype %q", s)
			}
		case "shape":
			dims, err := uintArray(dec, "shape")
			if err != nil {
				return info, err
			}
			info.Shape = make([]int, len(dims))
			for i, d := range dims {
				if d > math.MaxInt32 {
					return info, fmt.Errorf("shape[%d] = %d is too large", i, d)
				}
				info.Shape[i] = int(d)
			}
		case "data_offsets":
			offs, err := uintArray(dec, "data_offsets")
			if err != nil {
				return info, err
			}
			if len(offs) != 2 {
				return info, fmt.Errorf("data_offsets has %d values, want 2", len(offs))
			}
			if offs[0] > offs[1] {
				return info, fmt.Errorf("data_offsets [%d, %d]: begin after end", offs[0], offs[1])
			}
			if offs[1] > math.MaxInt {
				return info, fmt.Errorf("data_offsets [%d, %d]: too large", offs[0], offs[1])
			}
			info.Begin, info.End = int(offs[0]), int(offs[1])
		default:
			return info, fmt.Errorf("unknown field %q", key)
		}
	}
	for _, k := range fields {
		if !have[k] {
			return info, fmt.Errorf("missing %s", k)
		}
	}
	return info, expectDelim(dec, '}')
}

// uintArray reads a JSON array of non-negative integers.
func uintArray(dec *json.Decoder, what string) ([]uint64, error) {
	if err := expectDelim(dec, '['); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	var out []uint64
	for dec.More() {
		v, err := dec.Token()
		if err != nil {
			return nil, err
		}
		num, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: %s is not a number", what, len(out), tokenKind(v))
		}
		u, err := strconv.ParseUint(string(num), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %s is not a non-negative integer", what, len(out), num)
		}
		out = append(out, u)
	}
	return out, expectDelim(dec, ']')
}

// validate checks sizes and that the tensors tile the buffer exactly.
func (f *File) validate() error {
	for i := range f.tensors {
		t := &f.tensors[i]
		if t.End > len(f.buf) {
			return errf(ErrTensor, t.Name, "data_offsets [%d, %d] end beyond the %d-byte buffer", t.Begin, t.End, len(f.buf))
		}
		elems := uint64(1)
		for _, d := range t.Shape {
			hi, lo := bits.Mul64(elems, uint64(d))
			if hi != 0 {
				return errf(ErrTensor, t.Name, "shape %v overflows", t.Shape)
			}
			elems = lo
		}
		hi, nbytes := bits.Mul64(elems, uint64(t.DType.Size()))
		if hi != 0 {
			return errf(ErrTensor, t.Name, "shape %v × %d bytes overflows", t.Shape, t.DType.Size())
		}
		if nbytes != uint64(t.End-t.Begin) {
			return errf(ErrTensor, t.Name, "shape %v of %s needs %d bytes, data_offsets [%d, %d] hold %d",
				t.Shape, t.DType, nbytes, t.Begin, t.End, t.End-t.Begin)
		}
	}
	slices.SortStableFunc(f.tensors, func(a, b Info) int {
		if a.Begin != b.Begin {
			return a.Begin - b.Begin
		}
		return a.End - b.End
	})
	end, prev := 0, ""
	for i, t := range f.tensors {
		f.index[t.Name] = i
		switch {
		case t.Begin < end:
			return errf(ErrTensor, t.Name, "data_offsets [%d, %d] overlap tensor %q, which ends at %d", t.Begin, t.End, prev, end)
		case t.Begin > end && prev == "":
			return errf(ErrTensor, t.Name, "data_offsets [%d, %d] leave a gap: the buffer starts at 0", t.Begin, t.End)
		case t.Begin > end:
			return errf(ErrTensor, t.Name, "data_offsets [%d, %d] leave a gap after tensor %q, which ends at %d", t.Begin, t.End, prev, end)
		}
		end, prev = t.End, t.Name
	}
	if end != len(f.buf) {
		if prev == "" {
			return errf(ErrTensor, "", "%d bytes of buffer but no tensor", len(f.buf))
		}
		return errf(ErrTensor, "", "%d bytes after the last tensor %q", len(f.buf)-end, prev)
	}
	return nil
}

// Names lists the tensors in offset order.
func (f *File) Names() []string {
	names := make([]string, len(f.tensors))
	for i, t := range f.tensors {
		names[i] = t.Name
	}
	return names
}

// Info describes the tensor name.
func (f *File) Info(name string) (Info, bool) {
	i, ok := f.index[name]
	if !ok {
		return Info{}, false
	}
	t := f.tensors[i]
	t.Shape = slices.Clone(t.Shape)
	return t, true
}

// Metadata is the __metadata__ map (nil if the file has none). Do not
// modify it.
func (f *File) Metadata() map[string]string { return f.metadata }

// Raw is the tensor's bytes (little-endian, row-major), a view into the
// parsed data.
func (f *File) Raw(name string) (Info, []byte, error) {
	info, ok := f.Info(name)
	if !ok {
		return Info{}, nil, errf(ErrNotFound, name, "no such tensor")
	}
	return info, f.buf[info.Begin:info.End], nil
}

// Tensor converts the tensor name to float32 and returns it with its shape
// (row-major, C order). F32, F16 and BF16 convert exactly; F64 rounds to
// nearest (a value beyond float32's range becomes ±Inf). Other dtypes are
// an ErrDType error.
func (f *File) Tensor(name string) ([]float32, []int, error) {
	info, raw, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	n := info.Elements()
	out := make([]float32, n)
	switch info.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = f16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = bf16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	default:
		return nil, nil, errf(ErrDType, name, "dtype %s cannot be converted to float32", info.DType)
	}
	return out, info.Shape, nil
}
