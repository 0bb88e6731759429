package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// file builds a safetensors file from a header and a buffer of n bytes.
func file(header string, n int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, make([]byte, n)...)
}

func TestParseErrors(t *testing.T) {
	t16 := `"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}`
	cases := []struct {
		name   string
		data   []byte
		err    error
		tensor string // the tensor the error must name ("" for none)
		reason string // a substring of the message
	}{
		{"short", []byte{1, 2, 3}, ErrTruncated, "", "shorter than the 8-byte"},
		{"huge header", binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1), ErrHeaderTooLarge, "", "over the"},
		{"header past end", binary.LittleEndian.AppendUint64(nil, 100), ErrTruncated, "", "header length out of range"},
		{"max uint64", binary.LittleEndian.AppendUint64(nil, ^uint64(0)), ErrHeaderTooLarge, "", "over the"},
		{"not an object", file(`[1,2]   `, 0), ErrHeader, "", "start with '{'"},
		{"empty header", file(``, 0), ErrHeader, "", "start with '{'"},
		{"bad utf8", file("{\"\xff\":1}", 0), ErrHeader, "", "UTF-8"},
		{"bad json", file(`{"a":`, 0), ErrTensor, "a", "EOF"},
		{"bad key", file(`{1:2}`, 0), ErrHeader, "", "header JSON"},
		{"trailing json", file(`{} {}`, 0), ErrHeader, "", "after the header object"},
		{"duplicate", file(`{`+t16+`,`+t16+`}`, 16), ErrHeader, "a", "duplicate tensor name"},
		{"duplicate metadata", file(`{"__metadata__":{},"__metadata__":{}}`, 0), ErrHeader, "", "duplicate __metadata__"},
		{"metadata number", file(`{"__metadata__":{"k":1}}`, 0), ErrHeader, "", `key "k": value is a number, not a string`},
		{"metadata dup key", file(`{"__metadata__":{"k":"1","k":"2"}}`, 0), ErrHeader, "", `duplicate key "k"`},
		{"tensor not object", file(`{"a":[1]}`, 0), ErrTensor, "a", "want"},
		{"unknown dtype", file(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, 16), ErrTensor, "a", `unknown dtype "F128"`},
		{"dtype number", file(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, 4), ErrTensor, "a", "not a string"},
		{"missing shape", file(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, 4), ErrTensor, "a", "missing shape"},
		{"missing dtype", file(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, 4), ErrTensor, "a", "missing dtype"},
		{"missing offsets", file(`{"a":{"dtype":"F32","shape":[1]}}`, 4), ErrTensor, "a", "missing data_offsets"},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), ErrTensor, "a", `unknown field "x"`},
		{"duplicate field", file(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), ErrTensor, "a", "duplicate dtype"},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), ErrTensor, "a", "not a non-negative integer"},
		{"float dim", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), ErrTensor, "a", "not a non-negative integer"},
		{"huge dim", file(`{"a":{"dtype":"F32","shape":[99999999999],"data_offsets":[0,4]}}`, 4), ErrTensor, "a", "too large"},
		{"three offsets", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 4), ErrTensor, "a", "3 values, want 2"},
		{"begin after end", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, 8), ErrTensor, "a", "begin after end"},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}`, 16), ErrTensor, "a", "needs 12 bytes"},
		{"overflow", file(`{"a":{"dtype":"F64","shape":[65536,65536,65536,65536],"data_offsets":[0,8]}}`, 8), ErrTensor, "a", "overflows"},
		{"past buffer", file(`{`+t16+`}`, 8), ErrTensor, "a", "end beyond the 8-byte buffer"},
		{"overlap", file(`{`+t16+`,"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, 16), ErrTensor, "b", `overlap tensor "a"`},
		{"gap", file(`{`+t16+`,"b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]}}`, 24), ErrTensor, "b", `gap after tensor "a"`},
		{"gap at start", file(`{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), ErrTensor, "b", "buffer starts at 0"},
		{"trailing bytes", file(`{`+t16+`}`, 20), ErrTensor, "", `4 bytes after the last tensor "a"`},
		{"buffer without tensor", file(`{}`, 3), ErrTensor, "", "no tensor"},
	}
	for _, c := range cases {
		f, err := Parse(c.data)
		if f != nil || !errors.Is(err, c.err) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Tensor != c.tensor || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: err = %v, want tensor %q and %q", c.name, err, c.tensor, c.reason)
		}
	}
}

func TestParseValid(t *testing.T) {
	cases := []struct {
		name  string
		data  []byte
		names []string
		meta  map[string]string
	}{
		{"empty", file(`{}`, 0), []string{}, nil},
		{"padded", file(`{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}      `, 3), []string{"a"}, nil},
		{"offset order", file(`{"z":{"dtype":"I16","shape":[1],"data_offsets":[0,2]},`+
			`"a":{"dtype":"BOOL","shape":[2],"data_offsets":[2,4]},`+
			`"m":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]}}`, 4), []string{"z", "a", "m"}, nil},
		{"metadata", file(`{"__metadata__":{"k":"v","e":""}}`, 0), []string{}, map[string]string{"k": "v", "e": ""}},
		{"escaped name", file(`{"a\"\u00e9":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, 8), []string{"a\"é"}, nil},
	}
	for _, c := range cases {
		f, err := Parse(c.data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := f.Names(); strings.Join(got, ",") != strings.Join(c.names, ",") {
			t.Errorf("%s: names %q, want %q", c.name, got, c.names)
		}
		if len(f.Metadata()) != len(c.meta) {
			t.Errorf("%s: metadata %v, want %v", c.name, f.Metadata(), c.meta)
		}
		for k, v := range c.meta {
			if f.Metadata()[k] != v {
				t.Errorf("%s: metadata[%q] = %q, want %q", c.name, k, f.Metadata()[k], v)
			}
		}
	}
}

func TestWriteRoundTrip(t *testing.T) {
	ts, md := sample()
	var buf bytes.Buffer
	if err := Write(&buf, ts, md); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(buf.Bytes()); n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range ts {
		got, shape, err := f.Tensor(tn.Name)
		if err != nil {
			t.Fatalf("%q: %v", tn.Name, err)
		}
		if len(shape) != len(tn.Shape) || len(got) != len(tn.Data) {
			t.Fatalf("%q: shape %v, %d values", tn.Name, shape, len(got))
		}
		for i := range got {
			if got[i] != tn.Data[i] {
				t.Errorf("%q[%d] = %v, want %v", tn.Name, i, got[i], tn.Data[i])
			}
		}
	}
	if f.Metadata()["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata())
	}
}

func TestWriteErrors(t *testing.T) {
	cases := []struct {
		name    string
		tensors []Tensor
		md      map[string]string
		reason  string
	}{
		{"no name", []Tensor{{Shape: []int{1}, Data: []float32{1}}}, nil, "no name"},
		{"reserved", []Tensor{{Name: "__metadata__", Shape: []int{}, Data: []float32{1}}}, nil, "reserved"},
		{"duplicate", []Tensor{{Name: "a", Shape: []int{}, Data: []float32{1}}, {Name: "a", Shape: []int{}, Data: []float32{1}}}, nil, "duplicate"},
		{"shape", []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1}}}, nil, "holds 2 values, data has 1"},
		{"negative", []Tensor{{Name: "a", Shape: []int{-1}, Data: nil}}, nil, "negative"},
		{"int dtype", []Tensor{{Name: "a", DType: I32, Shape: []int{}, Data: []float32{1}}}, nil, "dtype I32"},
		{"bad utf8", []Tensor{{Name: "a\xff", Shape: []int{}, Data: []float32{1}}}, nil, "UTF-8"},
		{"bad metadata", nil, map[string]string{"k": "\xff"}, "metadata"},
	}
	for _, c := range cases {
		err := Write(&bytes.Buffer{}, c.tensors, c.md)
		if err == nil || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.reason)
		}
	}
}
