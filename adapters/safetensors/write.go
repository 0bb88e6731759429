package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"
)

// Tensor is one tensor to write: float32 values stored as DType.
type Tensor struct {
	Name string
	// DType is the stored type: F32 (the default when zero), F64, F16 or
	// BF16. F16 and BF16 round to nearest even.
	DType DType
	Shape []int     // row-major; [] is a scalar
	Data  []float32 // len = the product of Shape
}

// Write writes tensors and metadata (nil or empty for none) as a
// safetensors file laid out the way the reference implementation's writer
// does: tensors ordered by descending dtype (F64, F32, BF16, F16) and then
// by name, the header JSON serialized like serde_json (no spaces, the same
// string escapes), "__metadata__" first with its keys sorted, and the
// header padded with spaces to a multiple of 8 bytes so every tensor is
// aligned. With at most one metadata key the bytes equal those of
// safetensors.serialize (the reference orders metadata keys by hash, so
// with more keys only the order inside "__metadata__" can differ).
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	order, err := checkTensors(tensors)
	if err != nil {
		return err
	}
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: write: metadata key %q: not valid UTF-8", k)
		}
	}

	h := []byte{'{'}
	if len(metadata) > 0 {
		h = appendJSON(h, metadataKey)
		h = append(h, ':')
		h = appendJSON(h, metadata) // encoding/json sorts the keys
	}
	off := 0
	for i, ti := range order {
		t := &tensors[ti]
		if i > 0 || len(metadata) > 0 {
			h = append(h, ',')
		}
		n := len(t.Data) * dtypeOf(t).Size()
		h = appendJSON(h, t.Name)
		h = append(h, ':')
		h = appendJSON(h, tensorEntry{DType: dtypeOf(t).String(), Shape: append([]int{}, t.Shape...), DataOffsets: [2]int{off, off + n}})
		off += n
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if len(h) > MaxHeaderSize {
		return fmt.Errorf("safetensors: write: header of %d bytes is over the %d-byte limit", len(h), MaxHeaderSize)
	}

	bw := bufio.NewWriter(w)
	var n8 [8]byte
	binary.LittleEndian.PutUint64(n8[:], uint64(len(h)))
	bw.Write(n8[:])
	bw.Write(h)
	var b [8]byte
	for _, ti := range order {
		t := &tensors[ti]
		dt := dtypeOf(t)
		for _, v := range t.Data {
			switch dt {
			case F32:
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			case F64:
				binary.LittleEndian.PutUint64(b[:], math.Float64bits(float64(v)))
			case F16:
				binary.LittleEndian.PutUint16(b[:], f32ToF16(v))
			case BF16:
				binary.LittleEndian.PutUint16(b[:], f32ToBF16(v))
			}
			bw.Write(b[:dt.Size()])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	return nil
}

// WriteFile writes the file at path atomically: to a temporary file in the
// same directory, synced, then renamed over path.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = Write(tmp, tensors, metadata); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return nil
}

func dtypeOf(t *Tensor) DType {
	if t.DType == 0 {
		return F32
	}
	return t.DType
}

// checkTensors validates the tensors and returns their write order.
func checkTensors(tensors []Tensor) ([]int, error) {
	seen := make(map[string]bool, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		bad := func(format string, args ...any) error {
			return fmt.Errorf("safetensors: write: tensor %q: %s", t.Name, fmt.Sprintf(format, args...))
		}
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("safetensors: write: tensor %d has no name", i)
		case t.Name == metadataKey:
			return nil, bad("reserved name")
		case !utf8.ValidString(t.Name):
			return nil, bad("name is not valid UTF-8")
		case seen[t.Name]:
			return nil, bad("duplicate name")
		}
		seen[t.Name] = true
		if dt := dtypeOf(t); !dt.Float() {
			return nil, bad("dtype %s: want F32, F64, F16 or BF16", dt)
		}
		n := 1
		for _, d := range t.Shape {
			if d < 0 {
				return nil, bad("negative dimension in shape %v", t.Shape)
			}
			if d != 0 && n > math.MaxInt32/d {
				return nil, bad("shape %v is too large", t.Shape)
			}
			n *= d
		}
		if n != len(t.Data) {
			return nil, bad("shape %v holds %d values, data has %d", t.Shape, n, len(t.Data))
		}
	}
	order := make([]int, len(tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		da, db := dtypeOf(&tensors[a]), dtypeOf(&tensors[b])
		if da != db {
			return int(db) - int(da) // descending dtype
		}
		switch na, nb := tensors[a].Name, tensors[b].Name; {
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	})
	return order, nil
}

// tensorEntry is a tensor's header entry, its fields in the reference's
// order.
type tensorEntry struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"` // never nil: a scalar's is []
	DataOffsets [2]int `json:"data_offsets"`
}

// appendJSON appends v (a string, a map[string]string or a tensorEntry:
// values encoding/json cannot fail on) compact, as serde_json writes it:
// encoding/json without HTML escaping gives the same bytes ('"' and '\\'
// escaped, control characters as \b \t \n \f \r or \u00XX in lowercase
// hex, other text as is) except for U+2028 and U+2029, which it escapes
// and serde_json does not; those are put back as they are.
func appendJSON(b []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("safetensors: encode %T: %v", v, err)) // a bug: see the doc comment
	}
	js := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	for i := 0; i < len(js); i++ {
		if js[i] != '\\' {
			b = append(b, js[i])
			continue
		}
		// An escape: \u2028 or \u2029 becomes the rune, any other is kept
		// whole with the byte after the backslash (so "\\u2028", an
		// escaped backslash before "u2028", stays as it is).
		if e := js[i:]; len(e) >= 6 && string(e[:5]) == `\u202` && (e[5] == '8' || e[5] == '9') {
			b = utf8.AppendRune(b, rune(0x2020+int(e[5]-'0')))
			i += 5
			continue
		}
		b = append(b, js[i], js[i+1])
		i++
	}
	return b
}
