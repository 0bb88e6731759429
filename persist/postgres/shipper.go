package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/persist/journal"
)

// Shipper copies a run's journal into Postgres: exactly once, in order, in
// batches, resuming from shipper_offsets. It only reads the journal, so it
// never slows the engine down; when Postgres is away it retries with backoff
// and catches up. One Shipper per journal at a time (a second one would
// only lose the offset race: see doc.go).
type Shipper struct {
	pool *pgxpool.Pool
	opts ShipperOptions

	next     atomic.Uint64
	readEnd  atomic.Uint64
	batches  atomic.Uint64
	rows     atomic.Uint64
	records  atomic.Uint64
	rejects  atomic.Uint64
	errs     atomic.Uint64
	runNanos atomic.Int64 // Run's start, unix ns
	caughtUp atomic.Int64 // last time nothing was left to ship, unix ns
	sizes    [len(BatchSizeBounds) + 1]atomic.Uint64
	lags     [lagRing]atomic.Int64 // per committed batch: its first record appended → commit, ns
	// archived ticks, files and their bytes (ShipperOptions.Archive)
	archivedTicks, archivedFiles, archivedBytes atomic.Uint64
	nLags                                       atomic.Uint64
	lastErr                                     atomic.Pointer[string]
	inflight                                    atomic.Int32 // batches read and not yet written

	// acks: when the records were acknowledged by the journal, as
	// observed through Acked (the read goroutine's only).
	acks ackTimes

	symbols map[uint32]string // the read goroutine's only
	// direct: the login bypasses row-level security (a writer role), so
	// rows go by binary COPY straight into the tables without a conflict
	// clause (directTables); set at each session's start.
	direct bool
	// staging is the DDL of the staging tables (stagingDDL), once built.
	staging string
	// conflicts: a writer-path batch found its rows stored already (a
	// replay of the same input): the journal ships through staging.
	conflicts atomic.Bool

	// testUnnest (benchmarks only): the writer path inserts by INSERT …
	// SELECT FROM unnest(…) instead of COPY, to measure the two.
	testUnnest bool
	// testHookBeforeOffset, when set (tests only), runs in flush inside the
	// transaction, after the rows are copied (into staging, or into the
	// tables on the writer path) and before the inserts, fills and the
	// offset update go out.
	testHookBeforeOffset func()
}

// NewShipper returns a Shipper writing through pool (connected as the
// engine's role, which must not bypass RLS; Migrate must have run). Each
// session checks the login may act for opts.Tenant (CheckTenant): a role
// bound to another tenant fails with ErrWrongTenant.
func NewShipper(pool *pgxpool.Pool, opts ShipperOptions) (*Shipper, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Shipper{pool: pool, opts: opts}, nil
}

// Run ships until ctx is done, then returns nil. A batch in flight when ctx
// ends is rolled back and shipped by the next Run. Every failure (Postgres
// away, the journal not there yet, a corrupt journal block) is logged,
// counted in Stats and retried with backoff, from the stored offset.
func (s *Shipper) Run(ctx context.Context) error {
	s.runNanos.CompareAndSwap(0, time.Now().UnixNano())
	s.caughtUp.CompareAndSwap(0, time.Now().UnixNano())
	bo := s.newBackoff()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		err := s.session(ctx, bo)
		if ctx.Err() != nil {
			return nil
		}
		s.errs.Add(1)
		msg := err.Error()
		s.lastErr.Store(&msg)
		wait := bo.NextBackOff()
		s.opts.Logger.Warn("shipper: batch failed; retrying", "journal", s.opts.JournalID,
			"offset", s.next.Load(), "backoff", wait, "err", err)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// newBackoff is the wait after failed batches: MinBackoff, doubling up to
// MaxBackoff, without jitter (one shipper per journal: no herd to spread),
// reset when a batch lands.
func (s *Shipper) newBackoff() *backoff.ExponentialBackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     s.opts.MinBackoff,
		RandomizationFactor: 0,
		Multiplier:          2,
		MaxInterval:         s.opts.MaxBackoff,
	}
}

// errOffsetMoved: shipper_offsets is not where this shipper left it (another
// shipper of the same journal committed): start over from the stored one.
var errOffsetMoved = errors.New("shipper: stored offset moved under this shipper")

// session reads the stored offset, opens the journal there and ships until
// an error or ctx ends. Reading and decoding run on their own goroutine
// (read), filling the next batch while a transaction writes the one
// before: on two cores the decoding of batch n+1 overlaps the server's
// work on n.
func (s *Shipper) session(ctx context.Context, bo *backoff.ExponentialBackOff) error {
	off, err := s.load(ctx)
	if err != nil {
		return err
	}
	s.next.Store(off)
	s.readEnd.Store(max(s.readEnd.Load(), off))
	r, err := journal.NewReader(s.opts.Dir, journal.Offset(off))
	if err != nil {
		return fmt.Errorf("open journal %s at %d: %w", s.opts.Dir, off, err)
	}
	rctx, stop := context.WithCancel(ctx)
	batches := make(chan *batch)
	readErr := make(chan error, 1)
	go func() {
		defer r.Close()
		defer close(batches)
		readErr <- s.read(rctx, r, off, batches)
	}()
	// On the way out the reader stops, and its batches not written are
	// dropped: the next session reads them again from the stored offset.
	defer func() {
		stop()
		for range batches {
			s.inflight.Add(-1)
		}
	}()
	for b := range batches {
		err := s.flush(ctx, b)
		s.inflight.Add(-1)
		if err != nil {
			return err
		}
		bo.Reset()
	}
	if err := <-readErr; err != nil {
		return err
	}
	return ctx.Err()
}

// read decodes journal records from off into batches and hands each on to
// the writer through out (unbuffered): when it is full (BatchSize records
// kept: rows of this lane) or holds the journal's end record,
// or, once its first record was read MaxDelay ago (in a backlog: Poll ago,
// offered every backlogStep records), as soon as the writer is free. While
// the writer is busy a batch keeps growing, so a backlog goes in batches
// as large as the writer's pace calls for. It returns when ctx ends or the
// journal fails to read.
// backlogStep is how often, in records read, read offers a batch to a free
// writer in the middle of a backlog.
const backlogStep = 256

func (s *Shipper) read(ctx context.Context, r *journal.Reader, off uint64, out chan<- *batch) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	b := newBatch(s, off)
	// handed starts the next batch where b ended.
	handed := func() {
		s.inflight.Add(1)
		b = newBatch(s, b.end)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.opts.Acked != nil {
			// The clock is read when the offset moved (and at the end of
			// the journal below), not for every record.
			if l := uint64(s.opts.Acked()); l != s.acks.limit {
				s.acks.observe(l, time.Now())
			}
			r.SetLimit(journal.Offset(s.acks.limit))
		}
		kind, o, payload, err := r.Next()
		if errors.Is(err, io.EOF) {
			if s.opts.Acked != nil {
				s.acks.observe(uint64(s.opts.Acked()), time.Now())
			}
			if b.n == 0 && s.inflight.Load() == 0 {
				s.caughtUp.Store(time.Now().UnixNano())
			}
			wait := s.opts.Poll
			if b.n > 0 {
				if left := s.opts.MaxDelay - time.Since(b.firstAt); left > 0 {
					wait = min(wait, left)
				} else {
					// Due: hand it over the moment the writer is free,
					// and look at the journal again after Poll.
					timer.Reset(wait)
					select {
					case <-ctx.Done():
						return ctx.Err()
					case out <- b:
						handed()
					case <-timer.C:
					}
					continue
				}
			}
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read journal %s: %w", s.opts.Dir, err)
		}
		if uint64(o) != b.end {
			return fmt.Errorf("read journal %s: record %d, want %d", s.opts.Dir, o, b.end)
		}
		b.add(kind, uint64(o), payload)
		s.readEnd.Store(max(s.readEnd.Load(), uint64(o)+1))
		switch {
		case b.kept >= s.opts.BatchSize || b.last:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case out <- b:
				handed()
			}
		case time.Since(b.firstAt) >= s.opts.MaxDelay ||
			s.opts.Archive == nil && b.n%backlogStep == 0 && b.kept > 0 && time.Since(b.firstAt) >= s.opts.Poll:
			// Due, or a backlog (the journal has more) a poll's time
			// old: a free writer takes what there is, a busy one lets
			// it grow. Not for archive files, which want to be large.
			select {
			case out <- b:
				handed()
			default: // the writer is busy: b grows
			}
		}
	}
}

// load makes sure the journal has a row in shipper_offsets and returns its
// next offset, with the symbols shipped so far.
func (s *Shipper) load(ctx context.Context) (uint64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if err := checkTenantTx(ctx, tx, s.opts.Tenant); err != nil {
		return 0, err
	}
	// One round trip. tenant_id defaults to thunderline_tenant(): the
	// session's bound tenant.
	var q pgx.Batch
	q.Queue("INSERT INTO shipper_offsets (journal_id, next_offset) VALUES ($1, 0) ON CONFLICT DO NOTHING", s.opts.offsetKey())
	q.Queue("SELECT next_offset FROM shipper_offsets WHERE journal_id = $1 AND tenant_id = $2", s.opts.offsetKey(), s.opts.Tenant)
	q.Queue("SELECT symbol_id, name FROM journal_symbols WHERE journal_id = $1 AND tenant_id = $2", s.opts.JournalID, s.opts.Tenant)
	q.Queue("SELECT rolbypassrls FROM pg_roles WHERE rolname = session_user")
	br := tx.SendBatch(ctx, &q)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	var off int64
	if err := br.QueryRow().Scan(&off); err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return 0, fmt.Errorf("load symbols: %w", err)
	}
	syms := map[uint32]string{}
	var id int32
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { syms[uint32(id)] = name; return nil })
	if err != nil {
		return 0, fmt.Errorf("load symbols: %w", err)
	}
	var bypass bool
	if err := br.QueryRow().Scan(&bypass); err != nil {
		return 0, fmt.Errorf("load offset: role: %w", err)
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	s.symbols, s.direct = syms, bypass
	return uint64(off), nil
}
