package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/engine/config"
	"thunderline/persist/journal"
	"thunderline/persist/postgres"
)

// ShipSummary reports what a run shipped to Postgres.
type ShipSummary struct {
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

// Migrate applies the embedded schema migrations to the server at dsn.
func Migrate(ctx context.Context, dsn string) ([]string, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	defer pool.Close()
	return postgres.Migrate(ctx, pool)
}

// shipper ships a run's journal to Postgres while the run goes on; it only
// reads the journal, so a slow or absent server never slows the engine.
type shipper struct {
	pool   *pgxpool.Pool
	s      *postgres.Shipper
	cancel context.CancelFunc
	done   chan error
	jour   *journal.Journal
}

// startShipper connects, migrates and starts shipping p's journal.
func (p *Pipeline) startShipper(ctx context.Context, dsn string) (*shipper, error) {
	if p.jour == nil {
		return nil, fmt.Errorf("postgres: the profile's journal is disabled; the shipper tails the journal")
	}
	sh, err := startShipping(ctx, dsn, p.prof, p.opts.JournalDir, p.jour, p.opts.Logger) // New defaulted the logger
	if err != nil {
		return nil, err
	}
	p.shipping.Store(sh.s)
	return sh, nil
}

// startShipping connects, migrates and starts shipping the journal jour
// (directory dir) as the profile says, with hourly upkeep.
func startShipping(ctx context.Context, dsn string, prof *config.Profile, dir string, jour *journal.Journal, log *slog.Logger) (*shipper, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	pg := prof.Postgres
	s, err := postgres.NewShipper(pool, postgres.ShipperOptions{Dir: dir, Tenant: prof.TenantName(),
		BatchSize: pg.BatchRows, MaxDelay: time.Duration(pg.BatchDelay), Acked: jour.Acked, Logger: log})
	if err != nil {
		pool.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	sh := &shipper{pool: pool, s: s, cancel: cancel, done: make(chan error, 1), jour: jour}
	go func() { sh.done <- s.Run(sctx) }()
	// Hourly upkeep while the run lasts: next months' partitions (Migrate
	// made three months ahead; a run may outlast them) and retention.
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for first := true; ; first = false {
			if !first {
				select {
				case <-sctx.Done():
					return
				case <-t.C:
				}
			}
			if n, err := postgres.EnsurePartitions(sctx, pool, 3); err != nil {
				log.Warn("postgres partitions", "err", err)
			} else if n > 0 {
				log.Info("postgres: monthly partitions created", "partitions", n)
			}
			if age := time.Duration(pg.RawTicksRetention); age > 0 {
				if n, err := DropRawTicksBefore(sctx, pool, time.Now().Add(-age)); err != nil {
					log.Warn("postgres retention", "err", err)
				} else if n > 0 {
					log.Info("postgres retention: raw tick partitions dropped", "partitions", n)
				}
			}
		}
	}()
	return sh, nil
}

// DropRawTicksBefore drops the raw_market_ticks partitions wholly older than
// cutoff and returns how many; feature windows and decisions are kept.
func DropRawTicksBefore(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time) (int, error) {
	var n int
	err := pool.QueryRow(ctx, "SELECT drop_partitions_before('raw_market_ticks', $1)", cutoff).Scan(&n)
	return n, err
}

// finish waits (up to wait) for the shipper to catch up with the closed
// journal, then stops it.
func (sh *shipper) finish(records uint64, wait time.Duration) ShipSummary {
	deadline := time.Now().Add(wait)
	for sh.s.Stats().NextOffset < records && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sh.cancel()
	<-sh.done
	sh.pool.Close()
	st := sh.s.Stats()
	return ShipSummary{Rows: st.Rows, Records: st.Records, NextOffset: st.NextOffset, Batches: st.Batches,
		Rejects: st.Rejects, Errors: st.Errors, RowsPerSec: st.RowsPerSec, CaughtUp: st.NextOffset >= records,
		LastError: st.LastError}
}

// postgresDSN is the run's DSN: THUNDERLINE_PG_DSN or the profile's.
func (p *Pipeline) postgresDSN() string { return p.prof.PostgresDSN(os.Getenv) }

// Ship ships a run's journal to Postgres until it is caught up (the journal
// is closed) or ctx ends: the backfill after a crash or an outage, and what
// `thunderline ship` runs. It resumes from the offset Postgres holds for the
// journal, so rows already shipped are not written again.
func Ship(ctx context.Context, dsn, dir, tenant string, log *slog.Logger) (ShipSummary, error) {
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		return ShipSummary{}, fmt.Errorf("ship: %w", err)
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
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return ShipSummary{}, fmt.Errorf("postgres: %w", err)
	}
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return ShipSummary{}, fmt.Errorf("postgres: migrate: %w", err)
	}
	s, err := postgres.NewShipper(pool, postgres.ShipperOptions{Dir: dir, Tenant: tenant, Logger: log})
	if err != nil {
		pool.Close()
		return ShipSummary{}, err
	}
	sctx, cancel := context.WithCancel(ctx)
	sh := &shipper{pool: pool, s: s, cancel: cancel, done: make(chan error, 1)}
	go func() { sh.done <- s.Run(sctx) }()
	sum := sh.finish(records, time.Hour)
	if !sum.CaughtUp {
		return sum, fmt.Errorf("ship: stopped at record %d of %d: %s", sum.NextOffset, records, sum.LastError)
	}
	return sum, nil
}
