package remoteexpert

import (
	"path/filepath"
	"testing"
	"time"

	"thunderline/hotpath/expert"
)

// BenchmarkRemoteRoundTrip: one Eval (request, model, reply) over a unix
// socket, against the in-process Go server and the Python echo server.
func BenchmarkRemoteRoundTrip(b *testing.B) {
	for _, server := range []string{"go", "python"} {
		b.Run(server, func(b *testing.B) {
			path := filepath.Join(sockDir(b), "s")
			if server == "go" {
				startGo(b, path, &echoExpert{name: "echo", in: 16, out: 16})
			} else {
				startPython(b, path, 16, 16, 0)
			}
			c := newClient(b, Config{Name: "bench", Addr: path, InDim: 16, OutDim: 16, Deadline: 5 * time.Second})
			in := &expert.Input{Features: features(0.5, 1, 2), Embedding: make([]float32, 16), Symbol: 9, End: 1}
			out := &expert.Output{Hidden: make([]float32, 16)}
			if err := c.Connect(5 * time.Second); err != nil {
				b.Fatal(err)
			}
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
