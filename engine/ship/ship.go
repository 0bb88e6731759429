package ship

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/engine/config"
	"thunderline/engine/runjournal"
	"thunderline/persist/journal"
	"thunderline/persist/postgres"
)

// Summary reports what a run shipped to Postgres.
type Summary struct {
	Rows       uint64  `json:"rows"`
	Records    uint64  `json:"records"`
	NextOffset uint64  `json:"next_offset"`
	Batches    uint64  `json:"batches"`
	Rejects    uint64  `json:"rejects"`
	Errors     uint64  `json:"errors"`
	RowsPerSec float64 `json:"rows_per_s"`
	CaughtUp   bool    `json:"caught_up"` // every journal record is in Postgres
	LastError  string  `json:"last_error,omitempty"`
}

// connect opens a pool on dsn and applies the embedded migrations (a
// no-op for an engine role on a current schema). With a tenant, it checks
// the login may act for it: a tenant role bound to another tenant is
// refused (postgres.ErrWrongTenant), and so is an engine role bound to
// none (postgres.ErrUnboundRole).
func connect(ctx context.Context, dsn, tenant string) (*pgxpool.Pool, []string, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if tenant != "" {
		if err := postgres.CheckTenant(ctx, pool, tenant); err != nil {
			pool.Close()
			return nil, nil, err
		}
	}
	return pool, applied, nil
}

// Migrate applies the embedded schema migrations to the server at dsn and
// returns the ones it applied.
func Migrate(ctx context.Context, dsn string) ([]string, error) {
	pool, applied, err := connect(ctx, dsn, "")
	if err != nil {
		return nil, err
	}
	pool.Close()
	return applied, nil
}

// Shipper ships a run's journal to Postgres while the run goes on; it only
// reads the journal, so a slow or absent server never slows the engine.
type Shipper struct {
	pool   *pgxpool.Pool
	s      *postgres.Shipper
	cancel context.CancelFunc
	done   chan error
	dir    string
}

// HoldName is the journal hold (runjournal.SetHold) of the Postgres
// shipper: placed when a run or `thunderline ship` starts shipping a
// journal, released once every record is in Postgres, so retention never
// deletes a journal Postgres has not consumed.
const HoldName = "postgres"

// start runs s on its own goroutine until Finish.
func start(ctx context.Context, pool *pgxpool.Pool, s *postgres.Shipper, dir string) (*Shipper, context.Context) {
	sctx, cancel := context.WithCancel(ctx)
	sh := &Shipper{pool: pool, s: s, cancel: cancel, done: make(chan error, 1), dir: dir}
	go func() { sh.done <- s.Run(sctx) }()
	return sh, sctx
}

// Start connects, migrates and starts shipping the journal jour (directory
// dir) as the profile says, with hourly upkeep while it ships: next months'
// partitions (Migrate made three months ahead; a run may outlast them) and
// the raw tick retention. It stops at Finish, not with ctx. A login bound
// to another tenant than the profile's fails here (postgres.ErrWrongTenant),
// and so does a raw tick retention on a login that may not drop partitions
// (postgres.ErrRetentionRole: retention is the migration role's).
func Start(ctx context.Context, dsn string, prof *config.Profile, dir string, jour *journal.Journal, log *slog.Logger) (*Shipper, error) {
	pool, _, err := connect(ctx, dsn, prof.TenantName())
	if err != nil {
		return nil, err
	}
	pg := prof.Postgres
	if pg.RawTicksRetention > 0 {
		if err := postgres.CheckRetention(ctx, pool); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres.raw_ticks_retention: %w", err)
		}
	}
	s, err := postgres.NewShipper(pool, postgres.ShipperOptions{Dir: dir, Tenant: prof.TenantName(),
		BatchSize: pg.BatchRows, MaxDelay: time.Duration(pg.BatchDelay), Acked: jour.Acked, Logger: log})
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := runjournal.SetHold(dir, HoldName); err != nil {
		pool.Close()
		return nil, err
	}
	sh, sctx := start(context.Background(), pool, s, dir)
	go upkeep(sctx, pool, time.Duration(pg.RawTicksRetention), log)
	return sh, nil
}

// upkeep runs now and hourly until ctx ends: the monthly partitions three
// months ahead and, with a retention age, the raw tick partitions older.
func upkeep(ctx context.Context, pool *pgxpool.Pool, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		if n, err := postgres.EnsurePartitions(ctx, pool, 3); err != nil {
			log.Warn("postgres partitions", "err", err)
		} else if n > 0 {
			log.Info("postgres: monthly partitions created", "partitions", n)
		}
		if retention > 0 {
			if n, err := postgres.DropRawTicksBefore(ctx, pool, time.Now().Add(-retention)); err != nil {
				log.Warn("postgres retention", "err", err)
			} else if n > 0 {
				log.Info("postgres retention: raw tick partitions dropped", "partitions", n)
			}
		}
	}
}

// Stats are the shipper's counters (safe while it runs).
func (sh *Shipper) Stats() postgres.ShipperStats { return sh.s.Stats() }

// Finish waits (up to wait) for the shipper to catch up with the closed
// journal of records records, then stops it.
func (sh *Shipper) Finish(records uint64, wait time.Duration) Summary {
	deadline := time.Now().Add(wait)
	for sh.s.Stats().NextOffset < records && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sh.cancel()
	<-sh.done
	sh.pool.Close()
	st := sh.s.Stats()
	sum := Summary{Rows: st.Rows, Records: st.Records, NextOffset: st.NextOffset, Batches: st.Batches,
		Rejects: st.Rejects, Errors: st.Errors, RowsPerSec: st.RowsPerSec, CaughtUp: st.NextOffset >= records,
		LastError: st.LastError}
	if sum.CaughtUp {
		if err := runjournal.ReleaseHold(sh.dir, HoldName); err != nil && sum.LastError == "" {
			sum.LastError = err.Error()
		}
	}
	return sum
}

// Backfill ships a run's journal to Postgres until it is caught up (the
// journal is closed) or ctx ends: the backfill after a crash or an outage,
// and what `thunderline ship` runs. It resumes from the offset Postgres
// holds for the journal, so rows already shipped are not written again.
func Backfill(ctx context.Context, dsn, dir, tenant string, log *slog.Logger) (Summary, error) {
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		return Summary{}, fmt.Errorf("ship: %w", err)
	}
	var records uint64
	for {
		_, off, _, err := r.Next()
		if err != nil {
			break
		}
		records = uint64(off) + 1
	}
	r.Close()
	pool, _, err := connect(ctx, dsn, tenant)
	if err != nil {
		return Summary{}, err
	}
	s, err := postgres.NewShipper(pool, postgres.ShipperOptions{Dir: dir, Tenant: tenant, Logger: log})
	if err != nil {
		pool.Close()
		return Summary{}, err
	}
	if err := runjournal.SetHold(dir, HoldName); err != nil {
		pool.Close()
		return Summary{}, err
	}
	sh, _ := start(ctx, pool, s, dir)
	sum := sh.Finish(records, time.Hour)
	if !sum.CaughtUp {
		return sum, fmt.Errorf("ship: stopped at record %d of %d: %s", sum.NextOffset, records, sum.LastError)
	}
	return sum, nil
}
