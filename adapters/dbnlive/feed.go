package dbnlive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"thunderline/adapters/dbn"
	"thunderline/hotpath/record"
)

// FeedConfig configures a Feed.
type FeedConfig struct {
	Config
	// Source configures the conversion of records to ticks.
	Source dbn.SourceOptions
	// Overlap is how far before the event time of its last tick a resumed
	// session asks the gateway to replay from [0]. The gateway filters a
	// replay on ts_event but sends records in ts_recv order, so ts_event may
	// step back; a record after the break whose ts_event is more than
	// Overlap below the last tick's is not replayed. Set it to the feed's
	// largest step back (what it repeats is dropped, however large).
	Overlap time.Duration
	// History is how many ticks' event times the feed keeps to count what a
	// replay repeats [65536, rounded up to a power of two]. A tick older than
	// that with an event time inside the replay window narrows the window
	// (counted in Stats.Narrowed) so that the count stays exact.
	History int
	// MinBackoff and MaxBackoff bound the exponential backoff between
	// attempts to reconnect [50ms, 5s].
	MinBackoff, MaxBackoff time.Duration
}

// Stats are a Feed's counters, safe to read while it runs.
type Stats struct {
	Sessions     atomic.Uint64 // sessions started (handshake done, metadata read)
	Reconnects   atomic.Uint64 // attempts to open a session after one ended
	DialErrors   atomic.Uint64 // attempts that failed and were retried (refused, reset, timeout)
	Refusals     atomic.Uint64 // handshakes refused or broken by the gateway (ErrAuth, ErrProtocol)
	StreamErrors atomic.Uint64 // streams that were not DBN (the feed ends)
	IdleTimeouts atomic.Uint64 // sessions broken by silence (no record, no heartbeat)
	Duplicates   atomic.Uint64 // replayed ticks dropped as already delivered
	Mismatches   atomic.Uint64 // dropped replayed ticks whose event time was not the one delivered
	Narrowed     atomic.Uint64 // resumes whose replay window History could not cover in full
}

// Feed is a tick source over Databento's live gateway: a session's DBN
// stream decoded by adapters/dbn, resumed after a broken link.
//
// The resume rule. When a session breaks (a reset, a cut inside a record,
// Config.Idle of silence) or ends after new ticks, the feed reconnects
// with backoff and subscribes again asking for a replay from S = the event
// time of the last tick it delivered, minus Overlap (never before the
// configured Start). The gateway replays, in their original order, exactly
// the records with ts_event >= S; the feed has already delivered the K
// ticks of those records that came before the break, and it knows K and
// their event times from its history. So it drops the first K ticks of the
// new session — each checked against the event time it delivered, a
// difference counted in Stats.Mismatches — and delivers the rest: nothing
// at or before the last tick delivered comes twice, and nothing after it is
// lost. A session that ends cleanly (at a record boundary) after all the
// repeats it owed but without a new tick is the end of the feed (a served
// capture's end: a live gateway does not close); a refused handshake or a stream that is not DBN ends it with
// that error; ctx ending ends it with io.EOF.
type Feed struct {
	ctx  context.Context
	cfg  FeedConfig
	syms *record.Symbols
	bo   *backoff.ExponentialBackOff

	conn   *Conn
	stop   func() bool // unregisters the ctx watch of conn
	src    *dbn.Source
	counts dbn.RecordCounts // of the sessions that ended
	err    error            // sticky: the feed has ended

	hist       []int64 // event times of the last len(hist) ticks delivered (ring)
	n          uint64  // ticks delivered
	last       int64   // event time of the last tick delivered
	evictedMax int64   // the largest event time that left hist
	expect     []int64 // after a resume: event times of the ticks it repeats, in order
	fresh      bool    // the current session delivered a new tick

	Stats Stats
}

// StartFeed opens the first session; an error there (the gateway cannot be
// reached, refuses the key, or does not speak DBN) is returned as is.
func StartFeed(ctx context.Context, cfg FeedConfig, syms *record.Symbols) (*Feed, error) {
	if cfg.History <= 0 {
		cfg.History = 1 << 16
	}
	h := 1
	for h < cfg.History {
		h <<= 1
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 50 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = cfg.MinBackoff, cfg.MaxBackoff
	f := &Feed{ctx: ctx, cfg: cfg, syms: syms, bo: bo, hist: make([]int64, h), evictedMax: math.MinInt64}
	if err := f.connect(cfg.Config); err != nil {
		return nil, err
	}
	return f, nil
}

// Addr is the gateway's address.
func (f *Feed) Addr() string { return f.cfg.Addr }

// connect opens a session with cfg and starts decoding its stream.
func (f *Feed) connect(cfg Config) error {
	conn, err := Dial(f.ctx, cfg)
	if err != nil {
		if errors.Is(err, ErrAuth) || errors.Is(err, ErrProtocol) {
			f.Stats.Refusals.Add(1)
		}
		return err
	}
	stop := context.AfterFunc(f.ctx, func() { conn.Close() }) // unblocks a read when ctx ends
	r, err := dbn.NewReader(conn.Stream)
	if err != nil {
		stop()
		conn.Close()
		if corrupt(err) {
			f.Stats.StreamErrors.Add(1)
		}
		return fmt.Errorf("dbnlive: %s: the stream's metadata: %w", cfg.Addr, err)
	}
	f.conn, f.stop, f.src, f.fresh = conn, stop, dbn.NewSource(r, f.syms, f.cfg.Source), false
	f.Stats.Sessions.Add(1)
	return nil
}

// closeSession closes the current session and keeps its record counts.
func (f *Feed) closeSession() {
	f.stop()
	f.conn.Close()
	addCounts(&f.counts, f.src.RecordCounts())
	if f.fresh {
		f.bo.Reset()
	}
	f.conn, f.src = nil, nil
}

// Next fills dst with the next ticks (len(dst) >= dbn.MaxTicksPerRecord).
func (f *Feed) Next(dst []record.MarketTick) (int, error) {
	if len(dst) < dbn.MaxTicksPerRecord {
		return 0, fmt.Errorf("%w: %d slots, need at least %d", dbn.ErrShortBuffer, len(dst), dbn.MaxTicksPerRecord)
	}
	for {
		if f.err != nil {
			return 0, f.err
		}
		if f.src == nil {
			if err := f.resume(); err != nil {
				f.err = err
				return 0, err
			}
		}
		n, err := f.src.Next(dst) // ticks with a nil error, or 0 and an error
		if err == nil {
			if k := f.take(dst[:n]); k > 0 {
				return k, nil
			}
			continue
		}
		fresh := f.fresh
		f.closeSession()
		switch {
		case f.ctx.Err() != nil:
			f.err = io.EOF
		case errors.Is(err, io.EOF) && !fresh && len(f.expect) == 0:
			f.err = io.EOF // a clean end with nothing new after the repeats: the capture's end
		case corrupt(err):
			f.Stats.StreamErrors.Add(1)
			f.err = fmt.Errorf("dbnlive: %s: the stream is not DBN: %w", f.cfg.Addr, err)
		case errors.Is(err, os.ErrDeadlineExceeded):
			f.Stats.IdleTimeouts.Add(1)
		}
		// Otherwise a broken link, or a clean end after new ticks: resume.
	}
}

// take drops the ticks a resumed session repeats and records the rest in
// the history; it returns how many ticks of ts it kept (at its front).
func (f *Feed) take(ts []record.MarketTick) int {
	k := 0
	for i := range ts {
		t := &ts[i]
		if len(f.expect) > 0 {
			if t.TsEvent != f.expect[0] {
				f.Stats.Mismatches.Add(1)
			}
			f.expect = f.expect[1:]
			f.Stats.Duplicates.Add(1)
			continue
		}
		j := f.n & uint64(len(f.hist)-1)
		if f.n >= uint64(len(f.hist)) {
			f.evictedMax = max(f.evictedMax, f.hist[j])
		}
		f.hist[j], f.last = t.TsEvent, t.TsEvent
		f.n++
		if k != i {
			ts[k] = *t
		}
		k++
	}
	if k > 0 {
		f.fresh = true
	}
	return k
}

// resumePoint is the replay point of a resumed session and the event times
// of the delivered ticks it will repeat (see Feed).
func (f *Feed) resumePoint() (Config, []int64) {
	cfg := f.cfg.Config
	if f.n == 0 {
		return cfg, nil // nothing delivered: the subscription as configured
	}
	s := f.last - int64(f.cfg.Overlap)
	if cfg.Replay && s < cfg.Start {
		s = cfg.Start
	}
	if f.n > uint64(len(f.hist)) && f.evictedMax >= s {
		s = f.evictedMax + 1
		f.Stats.Narrowed.Add(1)
	}
	var expect []int64
	for i := f.n - min(f.n, uint64(len(f.hist))); i < f.n; i++ {
		if t := f.hist[i&uint64(len(f.hist)-1)]; t >= s {
			expect = append(expect, t)
		}
	}
	cfg.Replay, cfg.Start = true, s
	return cfg, expect
}

// resume opens the next session with backoff, until one starts, the
// gateway refuses, or ctx ends (io.EOF).
func (f *Feed) resume() error {
	cfg, expect := f.resumePoint()
	for {
		select {
		case <-f.ctx.Done():
			return io.EOF
		case <-time.After(f.bo.NextBackOff()):
		}
		f.Stats.Reconnects.Add(1)
		err := f.connect(cfg)
		if err == nil {
			f.expect = expect
			return nil
		}
		if f.ctx.Err() != nil {
			return io.EOF
		}
		if errors.Is(err, ErrAuth) || errors.Is(err, ErrProtocol) || corrupt(err) {
			return err
		}
		f.Stats.DialErrors.Add(1)
	}
}

// RecordCounts are the records received by rtype over all sessions
// (replayed ones included). Call it from the goroutine that calls Next, or
// once Next is no longer called.
func (f *Feed) RecordCounts() dbn.RecordCounts {
	c := f.counts
	if f.src != nil {
		addCounts(&c, f.src.RecordCounts())
	}
	return c
}

func addCounts(dst *dbn.RecordCounts, c dbn.RecordCounts) {
	for i, n := range c.ByRType {
		dst.ByRType[i] += n
	}
	dst.Total += c.Total
	dst.Market += c.Market
	dst.Skipped += c.Skipped
	dst.Unknown += c.Unknown
	dst.Ticks += c.Ticks
}

// corrupt reports whether err is the stream lying (bytes that are not DBN)
// rather than ending or breaking: no reconnect mends that.
func corrupt(err error) bool {
	for _, e := range []error{dbn.ErrBadMagic, dbn.ErrUnsupportedVersion, dbn.ErrBadMetadata, dbn.ErrBadRecord, dbn.ErrCorrupt} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
