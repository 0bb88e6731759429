package remoteexpert

import (
	"encoding/binary"
	"math"
	"testing"

	"thunderline/hotpath/expert"
)

// FuzzDecodeReply: no reply body makes decodeReply panic, and whatever it
// accepts is a valid output: a distribution with a confidence in [0, 1]
// for a head, finite hidden values, or the neutral abstention.
func FuzzDecodeReply(f *testing.F) {
	for _, outDim := range []int{0, 2} {
		out := expert.Output{Scores: [3]float32{0.2, 0.3, 0.5}, Confidence: 0.7, Hidden: []float32{1, -2}}
		if outDim > 0 {
			out.Scores = [3]float32{}
		}
		b := putReply(make([]byte, 4+replyLen(outDim)), 7, &out, outDim)
		f.Add(b[4:], uint8(outDim))
		out.Abstain = true
		b = putReply(make([]byte, 4+replyLen(outDim)), 7, &out, outDim)
		f.Add(b[4:], uint8(outDim))
	}
	f.Add([]byte{1, 4}, uint8(0))
	f.Fuzz(func(t *testing.T, body []byte, od uint8) {
		outDim := int(od % 8)
		out := expert.Output{Hidden: make([]float32, outDim)}
		if err := decodeReply(body, 7, outDim, &out); err != nil {
			return
		}
		if out.Abstain {
			if out.Scores != [3]float32{0, 0, 1} || out.Confidence != 0 {
				t.Fatalf("abstention not neutral: %+v", out)
			}
			return
		}
		if !(out.Confidence >= 0 && out.Confidence <= 1) {
			t.Fatalf("confidence %v", out.Confidence)
		}
		var sum float64
		for _, s := range out.Scores {
			if !(s >= 0 && s <= 1) {
				t.Fatalf("score %v", s)
			}
			sum += float64(s)
		}
		if outDim == 0 && math.Abs(sum-1) > 2e-3 {
			t.Fatalf("scores sum %v", sum)
		}
		for _, v := range out.Hidden {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("hidden %v", v)
			}
		}
	})
}

// FuzzDecodeEval: the server's request decoder never panics, and what it
// accepts encodes back to the same bytes.
func FuzzDecodeEval(f *testing.F) {
	in := expert.Input{Features: []float64{1.5, -2}, Embedding: []float32{0.25, 3}, Symbol: 42, End: -9}
	b := putEval(make([]byte, 4+evalLen(2, 2)), 5, &in)
	f.Add(b[4:])
	f.Add([]byte{1, 3, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		var (
			got   expert.Input
			feats []float64
			emb   []float32
		)
		id, err := decodeEval(body, &got, &feats, &emb)
		if err != nil {
			return
		}
		back := putEval(make([]byte, 4+evalLen(len(got.Features), len(got.Embedding))), id, &got)
		if binary.LittleEndian.Uint32(back) != uint32(len(body)) {
			t.Fatalf("length %d, body %d", binary.LittleEndian.Uint32(back), len(body))
		}
		// Reserved bytes 2-3 are not kept; compare the rest.
		if string(back[4:6]) != string(body[:2]) || string(back[8:]) != string(body[4:]) {
			t.Fatalf("re-encoded request differs")
		}
	})
}
