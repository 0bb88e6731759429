package report

import "time"

// Every calls f every interval (a second when interval <= 0) on its own
// goroutine until stop is called: the live progress of a run. stop returns
// once f has returned for the last time.
func Every(interval time.Duration, f func()) (stop func()) {
	if interval <= 0 {
		interval = time.Second
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f()
			}
		}
	}()
	return func() { close(done); <-finished }
}
