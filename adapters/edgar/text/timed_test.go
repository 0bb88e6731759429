package text

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const timedText = "Net sales may decline and litigation could adversely affect results."

// scorerFunc adapts a function to Scorer.
type scorerFunc func(ctx context.Context, text string) (Sentiment, error)

func (f scorerFunc) Score(ctx context.Context, text string) (Sentiment, error) { return f(ctx, text) }

// blocking is a primary that signals started and then blocks, ignoring its
// context (the worst case), until release is closed.
type blocking struct {
	started chan struct{}
	release chan struct{}
}

func newBlocking() *blocking {
	return &blocking{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (b *blocking) Score(ctx context.Context, text string) (Sentiment, error) {
	b.started <- struct{}{}
	<-b.release
	return Sentiment{Words: -1}, nil
}

// waitFor waits for cond with a deadline (no fixed sleeps).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitChan(t *testing.T, what string, c <-chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

type scored struct {
	s        Sentiment
	fellBack bool
	reason   string
	took     time.Duration
}

func scoreAsync(tm *Timed, ctx context.Context, text string) <-chan scored {
	c := make(chan scored, 1)
	go func() {
		t0 := time.Now()
		s, fb, r := tm.Score(ctx, text)
		c <- scored{s, fb, r, time.Since(t0)}
	}()
	return c
}

func recv(t *testing.T, c <-chan scored, within time.Duration) scored {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(within):
		t.Fatalf("Score did not return within %v", within)
		return scored{}
	}
}

func TestTimedSlowPrimaryFallsBack(t *testing.T) {
	base := runtime.NumGoroutine()
	p := newBlocking()
	tm := NewTimed(p, 50*time.Millisecond, 2, 4)

	r := recv(t, scoreAsync(tm, context.Background(), timedText), 2*time.Second)
	if !r.fellBack || r.reason != ReasonTimeout || r.s != Score(timedText) {
		t.Fatalf("got %+v, want the word-list result with reason %q", r, ReasonTimeout)
	}
	if r.took < 50*time.Millisecond {
		t.Errorf("fell back after %v, before the timeout", r.took)
	}
	if calls, timeouts, errs, full := tm.Stats(); calls != 1 || timeouts != 1 || errs != 0 || full != 0 {
		t.Errorf("Stats = %d %d %d %d, want 1 1 0 0", calls, timeouts, errs, full)
	}
	waitChan(t, "primary started", p.started)

	// Releasing the primary after the caller left: no panic, no leak.
	close(p.release)
	tm.Close()
	done := make(chan struct{})
	go func() { tm.workers.Wait(); close(done) }()
	waitChan(t, "workers to exit", done)
	waitFor(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= base })
	if _, fb, reason := tm.Score(context.Background(), timedText); !fb || reason != ReasonClosed {
		t.Errorf("after Close: fellBack=%v reason=%q", fb, reason)
	}
	tm.Close() // idempotent
}

func TestTimedErrorAndPanic(t *testing.T) {
	tm := NewTimed(scorerFunc(func(ctx context.Context, text string) (Sentiment, error) {
		if strings.HasPrefix(text, "panic") {
			panic("boom")
		}
		return Sentiment{}, errors.New("model down")
	}), time.Second, 1, 1)
	defer tm.Close()
	s, fb, reason := tm.Score(context.Background(), timedText)
	if !fb || reason != ReasonError+": model down" || s != Score(timedText) {
		t.Errorf("error: %+v %v %q", s, fb, reason)
	}
	s, fb, reason = tm.Score(context.Background(), "panic risk")
	if !fb || reason != ReasonError+": primary panicked: boom" || s != Score("panic risk") {
		t.Errorf("panic: %+v %v %q", s, fb, reason)
	}
	if calls, timeouts, errs, full := tm.Stats(); calls != 2 || timeouts != 0 || errs != 2 || full != 0 {
		t.Errorf("Stats = %d %d %d %d, want 2 0 2 0", calls, timeouts, errs, full)
	}
}

func TestTimedFastPrimary(t *testing.T) {
	want := Sentiment{Words: 7, Positive: 1, Negative: 2, Uncertainty: 3, Litigious: 4, Constraining: 5}
	tm := NewTimed(scorerFunc(func(ctx context.Context, text string) (Sentiment, error) {
		if _, ok := ctx.Deadline(); !ok {
			return Sentiment{}, errors.New("no deadline on the primary's context")
		}
		return want, nil
	}), 10*time.Second, 0, 0) // defaults: 2 workers, no queue
	defer tm.Close()
	s, fb, reason := tm.Score(context.Background(), timedText)
	if s != want || fb || reason != "" {
		t.Fatalf("got %+v %v %q, want the primary's result", s, fb, reason)
	}
}

func TestTimedQueueFull(t *testing.T) {
	p := newBlocking()
	tm := NewTimed(p, 10*time.Second, 1, 1)
	defer tm.Close()
	first := scoreAsync(tm, context.Background(), "first")
	waitChan(t, "worker busy", p.started)
	second := scoreAsync(tm, context.Background(), "second")
	waitFor(t, "second call queued", func() bool { return len(tm.jobs) == 1 && len(tm.slots) == 2 })

	r := recv(t, scoreAsync(tm, context.Background(), timedText), 2*time.Second)
	if !r.fellBack || r.reason != ReasonQueueFull || r.s != Score(timedText) {
		t.Fatalf("third call: %+v, want immediate fallback %q", r, ReasonQueueFull)
	}
	if _, _, _, full := tm.Stats(); full != 1 {
		t.Errorf("queueFull = %d, want 1", full)
	}
	close(p.release) // both queued calls now get the primary's answer
	for _, c := range []<-chan scored{first, second} {
		if r := recv(t, c, 5*time.Second); r.fellBack || r.s.Words != -1 {
			t.Errorf("queued call: %+v, want the primary's result", r)
		}
	}
	if calls, timeouts, errs, full := tm.Stats(); calls != 3 || timeouts != 0 || errs != 0 || full != 1 {
		t.Errorf("Stats = %d %d %d %d, want 3 0 0 1", calls, timeouts, errs, full)
	}
}

func TestTimedCanceledAndNil(t *testing.T) {
	p := newBlocking()
	defer close(p.release)
	tm := NewTimed(p, 10*time.Second, 1, 0)
	defer tm.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := scoreAsync(tm, ctx, timedText)
	waitChan(t, "primary started", p.started)
	cancel()
	if r := recv(t, c, 2*time.Second); !r.fellBack || r.reason != ReasonCanceled {
		t.Errorf("canceled: %+v", r)
	}

	// A nil primary is the word list itself: not a fallback, no goroutines.
	wl := NewTimed(nil, 0, 0, 0)
	defer wl.Close()
	if s, fb, reason := wl.Score(context.Background(), timedText); s != Score(timedText) || fb || reason != "" {
		t.Errorf("nil primary: %+v %v %q", s, fb, reason)
	}
}

func TestTimedConcurrent(t *testing.T) {
	want := Sentiment{Words: 99}
	tm := NewTimed(scorerFunc(func(ctx context.Context, text string) (Sentiment, error) {
		runtime.Gosched()
		return want, nil
	}), 2*time.Second, 2, 4)
	defer tm.Close()
	const n = 400
	var wg sync.WaitGroup
	var mu sync.Mutex
	primary, fell := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / 8 {
				s, fb, reason := tm.Score(context.Background(), timedText)
				mu.Lock()
				switch {
				case !fb && s == want:
					primary++
				case fb && (reason == ReasonQueueFull || reason == ReasonTimeout) && s == Score(timedText):
					fell++
				default:
					t.Errorf("unexpected %+v %v %q", s, fb, reason)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	calls, timeouts, errs, full := tm.Stats()
	if calls != n || errs != 0 || uint64(fell) != timeouts+full || primary+fell != n {
		t.Errorf("calls=%d timeouts=%d errors=%d full=%d; primary=%d fell=%d", calls, timeouts, errs, full, primary, fell)
	}
	if primary == 0 {
		t.Error("the primary never answered")
	}
}
