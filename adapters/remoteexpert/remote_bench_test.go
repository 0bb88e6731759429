package remoteexpert

import (
	"testing"

	"thunderline/hotpath/expert"
)

// BenchmarkRemoteRoundTrip: one Eval (request, model, reply) over a unix
// socket, against the in-process Go server and the Python echo server.
func BenchmarkRemoteRoundTrip(b *testing.B) {
	for _, server := range []string{"go", "python"} {
		b.Run(server, func(b *testing.B) {
			c := echoClient(b, server, 16, 16)
			in := &expert.Input{Features: features(0.5, 1, 2), Embedding: make([]float32, 16), Symbol: 9, End: 1}
			out := &expert.Output{Hidden: make([]float32, 16)}
			b.ReportAllocs()
			for b.Loop() {
				c.Eval(in, out)
			}
			if st := c.Stats(); st.Misses != 0 {
				b.Fatalf("misses: %+v", st)
			}
		})
	}
}
