package router

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// FuzzRoute feeds arbitrary bytes as the shape, the config, the gate matrix
// and the embeddings (little-endian float32, so NaN, ±Inf, subnormals and
// huge values all occur). What must hold:
//
//   - NewLayer rejects a gate matrix holding NaN or Inf with a ConfigError
//     naming gate_weights (the fuzzer then zeroes those weights and goes on);
//   - Route never panics and never returns an error for a well-shaped batch;
//   - a token with a NaN or Inf embedding value is StatusInvalid (any such
//     value makes every one of its logits NaN or Inf), its Probs row is NaN,
//     and it is in no bucket; finite tokens whose logits overflow are
//     invalid too;
//   - every invariant of the property test holds, the result equals the
//     plain oracle, and a second run gives the same bytes.
func FuzzRoute(f *testing.F) {
	le := func(vals ...float32) []byte {
		var b []byte
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	f.Add(append([]byte{3, 4, 10, 0x40, 0x80, 1, 1}, le(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)...))
	f.Add(append([]byte{2, 2, 5, 0x10, 0xff, 0, 0}, le(0.5, -1, nan, 2, inf, 3, -inf, 1e38, 1e38, -2)...))
	f.Add(append([]byte{0, 0, 0, 0, 0, 0, 0}, le(nan)...))
	f.Add(append([]byte{7, 15, 40, 0xff, 0x01, 4, 1}, le(3e38, -3e38, 1e-45, 0, 1)...))
	f.Add([]byte{31, 95, 255, 0x20, 0x40, 2, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 7 {
			return
		}
		E := 1 + int(data[0])%32
		dim := 1 + int(data[1])%96
		n := 1 + int(data[2])%64
		cfg := LayerConfig{
			Experts:            E,
			CapacityFactor:     0.25 + float64(data[3])/32, // (0, 8.2]
			P:                  float64(1+int(data[4])) / 256,
			MaxExpertsPerToken: int(data[5]) % 6,
			Undercovered:       Policy(data[6] % 2),
		}
		vals := data[7:]
		next := func(j int) float32 { // cycle through the payload, or a ramp if empty
			if len(vals) < 4 {
				return float32(j%7) - 3
			}
			o := (4 * j) % (len(vals) - len(vals)%4)
			return math.Float32frombits(binary.LittleEndian.Uint32(vals[o:]))
		}
		wg := make([]float32, dim*E)
		nonFinite := false
		for j := range wg {
			wg[j] = next(j)
			nonFinite = nonFinite || isNonFinite(wg[j])
		}
		l, err := NewLayer(cfg, dim, wg)
		if nonFinite {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != "gate_weights" {
				t.Fatalf("NewLayer with a non-finite gate weight: %v", err)
			}
			for j := range wg {
				if isNonFinite(wg[j]) {
					wg[j] = 0
				}
			}
			if l, err = NewLayer(cfg, dim, wg); err != nil {
				t.Fatal(err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
		emb := make([]float32, n*dim)
		for j := range emb {
			emb[j] = next(len(wg) + j)
		}
		a := NewAssignment(n, E)
		if err := l.Route(emb, n, a); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			bad := false
			for _, v := range emb[i*dim : (i+1)*dim] {
				bad = bad || isNonFinite(v)
			}
			if bad && a.Status(i) != StatusInvalid {
				t.Fatalf("token %d has a non-finite embedding but status %v", i, a.Status(i))
			}
			if a.Status(i) == StatusInvalid && !math.IsNaN(float64(a.Probs[i*E])) {
				t.Fatalf("invalid token %d has probabilities %v", i, a.Probs[i*E:(i+1)*E])
			}
		}
		checkInvariants(t, 0, l, a)
		checkAgainstOracle(t, 0, cfg, dim, wg, emb, n, a)
		first := canonical(a)
		if err := l.Route(emb, n, a); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, canonical(a)) {
			t.Fatal("second run differs")
		}
	})
}

func isNonFinite(v float32) bool { return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) }
