package report

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"
)

func TestSecondsJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		E Seconds `json:"elapsed_s"`
	}{Seconds(1500 * time.Millisecond)})
	if err != nil || string(b) != `{"elapsed_s":1.500}` {
		t.Fatalf("%s %v", b, err)
	}
	var s Seconds
	if err := json.Unmarshal([]byte("2.25"), &s); err != nil || time.Duration(s) != 2250*time.Millisecond {
		t.Fatalf("%v %v", time.Duration(s), err)
	}
}

// Every calls its function on every tick until stopped.
func TestEvery(t *testing.T) {
	var n atomic.Int64
	ticked := make(chan struct{}, 100)
	stop := Every(time.Millisecond, func() {
		n.Add(1)
		select {
		case ticked <- struct{}{}:
		default:
		}
	})
	for range 3 {
		select {
		case <-ticked:
		case <-time.After(10 * time.Second):
			t.Fatal("no tick")
		}
	}
	stop() // returns once the last call has returned
	if got := n.Load(); got < 3 {
		t.Fatalf("%d calls", got)
	}
}
