package safetensors

import (
	"bytes"
	"errors"
	"math"
	"os"
	"testing"
)

// FuzzParse: no input makes Parse or Tensor panic; whatever parses writes
// back (float tensors) and parses again to the same values.
func FuzzParse(f *testing.F) {
	if ref, err := os.ReadFile("testdata/reference.safetensors"); err == nil {
		f.Add(ref)
	}
	ts, md := sample()
	var buf bytes.Buffer
	if err := Write(&buf, ts, md); err == nil {
		f.Add(buf.Bytes())
	}
	f.Add(file(`{}`, 0))
	f.Add(file(`{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[16,20]}}`, 20))
	f.Add(file(`{"__metadata__":{"k":"v"},"a":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}`, 2))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		var out []Tensor
		for _, name := range p.Names() {
			v, shape, err := p.Tensor(name)
			info, _ := p.Info(name)
			if err != nil {
				if info.DType.Float() || !errors.Is(err, ErrDType) {
					t.Fatalf("%q (%s): %v", name, info.DType, err)
				}
				continue
			}
			out = append(out, Tensor{Name: name, DType: info.DType, Shape: shape, Data: v})
		}
		buf.Reset()
		if err := Write(&buf, out, p.Metadata()); err != nil {
			t.Fatalf("write back: %v", err)
		}
		q, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("parse back: %v", err)
		}
		for _, tn := range out {
			v, _, err := q.Tensor(tn.Name)
			if err != nil {
				t.Fatalf("%q back: %v", tn.Name, err)
			}
			for i := range v {
				a, b := v[i], tn.Data[i]
				if math.Float32bits(a) != math.Float32bits(b) && !(a != a && b != b) {
					t.Fatalf("%q[%d]: %v back as %v", tn.Name, i, b, a)
				}
			}
		}
	})
}
