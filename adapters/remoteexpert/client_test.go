package remoteexpert

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"thunderline/hotpath/expert"
)

// TestBackoffDoublesAndResets: the wait before a reconnect doubles from
// BackoffMin per consecutive miss up to BackoffMax, and an answered call
// starts it over.
func TestBackoffDoublesAndResets(t *testing.T) {
	path := filepath.Join(sockDir(t), "s")
	startGo(t, path, &echoExpert{name: "echo", in: 3})
	c := newClient(t, Config{Name: "b", Addr: path, InDim: 3, Deadline: 5 * time.Second,
		BackoffMin: time.Millisecond, BackoffMax: 20 * time.Millisecond})
	waits := func(n int) []time.Duration {
		var got []time.Duration
		now := time.Now()
		for range n {
			c.mu.Lock()
			c.missed(CauseTimeout, os.ErrDeadlineExceeded, now)
			got = append(got, c.retryAt.Sub(now))
			c.mu.Unlock()
		}
		return got
	}
	ms := time.Millisecond
	if got, want := waits(7), []time.Duration{ms, 2 * ms, 4 * ms, 8 * ms, 16 * ms, 20 * ms, 20 * ms}; !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	in := &expert.Input{Embedding: []float32{0.2, 0.3, 0.5}, Symbol: 250}
	var out expert.Output
	waitAnswer(t, c, in, &out)
	if got := waits(2); !slices.Equal(got, []time.Duration{ms, 2 * ms}) {
		t.Fatalf("waits after an answer %v, want [1ms 2ms]", got)
	}
}
