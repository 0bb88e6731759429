package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"thunderline/persist/journal"
)

// No decision without durability. When the journal cannot write (the disk
// is full, no file descriptor for a new segment: journal.ErrRetry), the
// run does not go on without it:
//
//   - the journal sink holds what it could not write and tries again every
//     journal.retry_interval; it takes nothing more from its rings, so they
//     fill and the partitions and the decision stage stop where they are;
//   - the reader stops reading (a file input waits; a live feed's socket
//     buffers, then its own gap recovery);
//   - /readyz answers 503 with the reason, thunderline_journal_up is 0, and
//     a journal_down event goes to the risk topic;
//   - once a write succeeds everything held is on disk, in order, the
//     reader resumes, and a journal_up event says how long it was down.
//
// Decisions made from ticks already read before the failure are held with
// their records and published only once journaled, so nothing is decided
// and published that is not in the journal. A failure that cannot be
// retried (an fsync error) fails the run. Stopping the run (SIGTERM) while
// the journal is down gives up: what was held is counted as not journaled
// and the run exits with the error.

// journalGrace is how long past its --for a run waits for a journal that
// cannot write before it gives up.
const journalGrace = 10 * time.Second

// JournalEvent is a change of the journal's health, for the risk topic.
type JournalEvent struct {
	Event  string        `json:"event"` // journal_down, journal_up, journal_low_space, journal_space_ok
	Reason string        `json:"reason,omitempty"`
	Down   time.Duration `json:"down_ns,omitempty"` // journal_up: how long it was down
	Free   int64         `json:"free_bytes,omitempty"`
	Min    int64         `json:"min_free_bytes,omitempty"`
}

// journalHealth is the journal's durability state: written by the sink
// (and the space monitor), read by the reader, /readyz and metrics.
type journalHealth struct {
	isDown  atomic.Bool
	giveUp  atomic.Bool
	outages atomic.Uint64
	downNs  atomic.Int64 // finished outages
	free    atomic.Int64 // bytes free on the journal's filesystem (-1: unknown)
	low     atomic.Bool
	mu      sync.Mutex
	err     error
	since   time.Time
	every   time.Duration
	minFree int64
	inline  bool // the journal writes on the sink's goroutine (compressors: 0)
	log     *slog.Logger
	on      func(JournalEvent)
}

func (h *journalHealth) emit(ev JournalEvent) {
	if h.on != nil {
		h.on(ev)
	}
}

// down records a retryable write failure (the first of an outage starts it).
func (h *journalHealth) down(err error) {
	if h.isDown.Load() {
		return
	}
	h.mu.Lock()
	h.err, h.since = err, time.Now()
	h.mu.Unlock()
	h.isDown.Store(true)
	h.outages.Add(1)
	h.log.Error("journal cannot write: reading stops and nothing more is decided until it can", "err", err)
	h.emit(JournalEvent{Event: "journal_down", Reason: err.Error()})
}

// up ends an outage: everything held is written.
func (h *journalHealth) up() {
	if !h.isDown.Load() {
		return
	}
	h.mu.Lock()
	d := time.Since(h.since)
	h.mu.Unlock()
	h.downNs.Add(int64(d))
	h.isDown.Store(false)
	h.log.Warn("journal writes again: reading resumes", "down", d)
	h.emit(JournalEvent{Event: "journal_up", Down: d})
}

// Err is the outage's error (nil while the journal writes).
func (h *journalHealth) Err() error {
	if !h.isDown.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Errorf("journal cannot write since %s (decisions stopped): %w", h.since.UTC().Format(time.RFC3339), h.err)
}

// pause sleeps one retry interval, cut short when the run gives up.
func (h *journalHealth) pause() {
	for end := time.Now().Add(h.every); !h.giveUp.Load() && time.Now().Before(end); {
		time.Sleep(min(10*time.Millisecond, time.Until(end)))
	}
}

// waitUp blocks the reader while the journal is down, until it writes
// again, ctx ends or the run fails.
func (h *journalHealth) waitUp(ctx context.Context, failed *atomic.Bool) {
	for h.isDown.Load() && ctx.Err() == nil && !failed.Load() {
		time.Sleep(5 * time.Millisecond)
	}
}

// checkSpace reads the free space of dir's filesystem and warns when it
// crosses the watermark (both ways).
func (h *journalHealth) checkSpace(dir string) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		h.free.Store(-1)
		return
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	h.free.Store(free)
	if h.minFree <= 0 {
		return
	}
	if low := free < h.minFree; low != h.low.Load() {
		h.low.Store(low)
		if low {
			h.log.Warn("journal disk space below the watermark", "dir", dir, "free_bytes", free, "min_free_bytes", h.minFree)
			h.emit(JournalEvent{Event: "journal_low_space", Free: free, Min: h.minFree})
		} else {
			h.log.Info("journal disk space above the watermark again", "dir", dir, "free_bytes", free)
			h.emit(JournalEvent{Event: "journal_space_ok", Free: free, Min: h.minFree})
		}
	}
}

// watch follows the journal's background writer (a failed write it is
// retrying means the journal is down) every 10ms, and the free space of
// its filesystem every second, until stop.
func (h *journalHealth) watch(j *journal.Journal, dir string, stop <-chan struct{}) {
	h.checkSpace(dir)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := j.WriteErr(); err != nil {
			h.down(err)
		} else if h.isDown.Load() && !h.inline {
			h.up()
		}
		if n%100 == 0 {
			h.checkSpace(dir)
		}
	}
}

// retryable reports whether a journal error is one to wait out.
func retryable(err error) bool { return errors.Is(err, journal.ErrRetry) }

// JournalError returns why the journal cannot write, or nil when it can
// (or the run has none): /readyz answers 503 with it.
func (p *Pipeline) JournalError() error {
	if p.jsink == nil {
		return nil
	}
	return p.jh.Err()
}
