package text

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Scorer is a sentiment model that may be slow or remote. Score should
// return promptly once ctx is done; Timed does not rely on it.
type Scorer interface {
	Score(ctx context.Context, text string) (Sentiment, error)
}

// Reasons reported by Timed.Score when it falls back to the word list.
// An error from the primary is reported as ReasonError + ": " + the error.
const (
	ReasonTimeout   = "timeout"    // the per-call timeout or ctx's deadline passed
	ReasonCanceled  = "canceled"   // ctx was canceled
	ReasonQueueFull = "queue full" // every worker busy and the queue full
	ReasonError     = "error"      // the primary returned an error (or panicked)
	ReasonClosed    = "closed"     // Close was called
)

// Defaults of NewTimed.
const (
	DefaultTimedTimeout = time.Second
	DefaultTimedWorkers = 2
)

// Timed runs a primary Scorer with a deadline per call on a bounded pool of
// workers and falls back to the word-list Score when the primary is slow,
// fails, or is saturated. Score never blocks longer than the timeout (plus
// scheduling) and never waits for a queue slot. Safe for concurrent use.
//
// Determinism: which branch a call takes depends on timing. The result says
// so (fellBack, reason), so a replay that took the other branch is
// detectable; use Score directly (or a nil primary) for the deterministic
// default.
type Timed struct {
	primary Scorer
	timeout time.Duration
	jobs    chan *job
	slots   chan struct{} // one per call pending or running: capacity workers+queue
	quit    chan struct{}
	once    sync.Once
	workers sync.WaitGroup

	calls, timeouts, errors, queueFull atomic.Uint64
}

type job struct {
	ctx  context.Context // canceled when the caller stops waiting
	text string
	done chan result // capacity 1: a worker never blocks on it
}

type result struct {
	s   Sentiment
	err error
}

// NewTimed starts workers goroutines (DefaultTimedWorkers when ≤ 0) running
// primary with room for queue calls waiting for a worker (0 when < 0: a call
// is accepted only while a worker is free) and a per-call timeout
// (DefaultTimedTimeout when ≤ 0). A call is accepted while fewer than
// workers+queue calls are waiting or running; a call whose caller has
// already fallen back keeps its place until the primary returns, since it
// still occupies a worker. A nil primary starts no goroutines: Score is then the word list,
// not a fallback. Close stops the workers.
func NewTimed(primary Scorer, timeout time.Duration, workers, queue int) *Timed {
	if timeout <= 0 {
		timeout = DefaultTimedTimeout
	}
	if workers <= 0 {
		workers = DefaultTimedWorkers
	}
	t := &Timed{primary: primary, timeout: timeout, quit: make(chan struct{})}
	if primary == nil {
		return t
	}
	n := workers + max(queue, 0)
	t.jobs = make(chan *job, n)
	t.slots = make(chan struct{}, n)
	t.workers.Add(workers)
	for range workers {
		go t.work()
	}
	return t
}

// Score returns the primary's result when it answers within the timeout,
// else the word-list Score(text) with fellBack true and one of the Reason
// values (an error's text appended after ReasonError).
func (t *Timed) Score(ctx context.Context, text string) (s Sentiment, fellBack bool, reason string) {
	t.calls.Add(1)
	if t.primary == nil {
		return Score(text), false, ""
	}
	select {
	case <-t.quit:
		return Score(text), true, ReasonClosed
	default:
	}
	cctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel() // tells the primary (and a worker that has not started it yet) to stop
	j := &job{ctx: cctx, text: text, done: make(chan result, 1)}
	select {
	case t.slots <- struct{}{}:
		t.jobs <- j // never blocks: jobs has as much room as slots
	default:
		t.queueFull.Add(1)
		return Score(text), true, ReasonQueueFull
	}
	select {
	case r := <-j.done:
		if r.err != nil {
			t.errors.Add(1)
			return Score(text), true, ReasonError + ": " + r.err.Error()
		}
		return r.s, false, ""
	case <-cctx.Done():
		if errors.Is(cctx.Err(), context.DeadlineExceeded) {
			t.timeouts.Add(1)
			return Score(text), true, ReasonTimeout
		}
		t.errors.Add(1)
		return Score(text), true, ReasonCanceled
	case <-t.quit:
		return Score(text), true, ReasonClosed
	}
}

// Stats returns the number of Score calls, of fallbacks because the
// deadline passed, because the primary failed (error, panic) or the caller
// canceled, and because the queue was full.
func (t *Timed) Stats() (calls, timeouts, errors, queueFull uint64) {
	return t.calls.Load(), t.timeouts.Load(), t.errors.Load(), t.queueFull.Load()
}

// Close stops the workers; later Score calls fall back with ReasonClosed.
// It does not wait for a primary call in progress: that call's context is
// canceled when its caller stops waiting, and its worker exits when the
// primary returns. Close may be called more than once.
func (t *Timed) Close() { t.once.Do(func() { close(t.quit) }) }

func (t *Timed) work() {
	defer t.workers.Done()
	for {
		select {
		case <-t.quit:
			return
		case j := <-t.jobs:
			if j.ctx.Err() == nil { // else the caller has already fallen back
				s, err := t.call(j)
				j.done <- result{s, err}
			}
			<-t.slots
		}
	}
}

// call runs the primary. The primary is a pluggable model, like an expert:
// a panic in it is a failure of that call (counted as an error and answered
// by the fallback), not of the pipeline.
func (t *Timed) call(j *job) (s Sentiment, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("primary panicked: %v", r)
		}
	}()
	return t.primary.Score(j.ctx, j.text)
}
