package source

import (
	"context"
	"sync"
	"time"
)

// limiter is a token bucket in its virtual-scheduling form (GCRA): one
// request per interval on average, up to burst at once. Each wait reserves
// its slot, so concurrent waiters queue instead of stampeding. A wait
// cancelled by ctx keeps its reservation, which only errs on the slow side.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	burst    int
	tat      time.Time // theoretical arrival time of the next request
}

func newLimiter(perSec float64, burst int) *limiter {
	iv := time.Duration(float64(time.Second) / perSec)
	if iv <= 0 {
		iv = 1
	}
	return &limiter{interval: iv, burst: burst}
}

// wait blocks until the caller may send one request. It reports whether it
// had to wait.
func (l *limiter) wait(ctx context.Context) (waited bool, err error) {
	l.mu.Lock()
	now := time.Now()
	tat := l.tat
	if tat.Before(now) {
		tat = now
	}
	allowAt := tat.Add(-time.Duration(l.burst-1) * l.interval)
	l.tat = tat.Add(l.interval)
	l.mu.Unlock()
	d := allowAt.Sub(now)
	if d <= 0 {
		return false, ctx.Err()
	}
	return true, sleep(ctx, d)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
