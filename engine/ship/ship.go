package ship

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/engine/config"
	"thunderline/engine/runjournal"
	"thunderline/persist/artifacts"
	"thunderline/persist/journal"
	"thunderline/persist/postgres"
)

// Summary reports what a run shipped to Postgres: both lanes together,
// and each (decision data; raw ticks).
type Summary struct {
	Rows       uint64  `json:"rows"`
	Records    uint64  `json:"records"`     // journal records covered (each lane reads them all; the lower)
	NextOffset uint64  `json:"next_offset"` // the lower lane's: every record below it is in Postgres
	Batches    uint64  `json:"batches"`
	Rejects    uint64  `json:"rejects"`
	Errors     uint64  `json:"errors"`
	RowsPerSec float64 `json:"rows_per_s"`
	CaughtUp   bool    `json:"caught_up"` // every journal record is in Postgres
	LastError  string  `json:"last_error,omitempty"`
	// Journal is the run's journal; Left the records not yet in Postgres;
	// Finish, when something is left, the command that ships the rest.
	Journal   string      `json:"journal,omitempty"`
	Left      uint64      `json:"left"`
	Finish    string      `json:"finish,omitempty"`
	Decisions LaneSummary `json:"decisions"`
	Ticks     LaneSummary `json:"ticks"`
}

// LaneSummary is one shipping lane's share.
type LaneSummary struct {
	Rows       uint64 `json:"rows"`
	NextOffset uint64 `json:"next_offset"`
	CaughtUp   bool   `json:"caught_up"`
	// Commit lag over its last 1,024 batches: first record appended to the
	// journal → commit (postgres.ShipperStats.CommitLagP99).
	CommitLagP50 int64 `json:"commit_lag_p50_ns"`
	CommitLagP99 int64 `json:"commit_lag_p99_ns"`
	CommitLagMax int64 `json:"commit_lag_max_ns"`
	// With postgres.archive (the tick lane): raw ticks written to Parquet
	// files listed in tick_files, and the files.
	ArchivedTicks uint64 `json:"archived_ticks,omitempty"`
	ArchivedFiles uint64 `json:"archived_files,omitempty"`
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

// Shipper ships a run's journal to Postgres while the run goes on, in two
// lanes with their own offsets: the decision data (windows, labels,
// traces, lineage, rejects, outbox events) and the raw ticks, so decision
// data is queryable within a batch delay of being journaled whatever the
// raw tick backlog. It only reads the journal, so a slow or absent server
// never slows the engine.
type Shipper struct {
	pool   *pgxpool.Pool
	lanes  [2]*postgres.Shipper // decisions, ticks
	ctx    context.Context
	cancel context.CancelFunc
	done   chan error
	dir    string
}

// HoldName is the journal hold (runjournal.SetHold) of the Postgres
// shipper: placed when a run or `thunderline ship` starts shipping a
// journal, released once every record is in Postgres, so retention never
// deletes a journal Postgres has not consumed.
const HoldName = "postgres"

// newLanes returns the decision and tick lanes of o; with an archive
// (postgres.archive), the tick lane writes Parquet files of its batches,
// bounded by arch's file_records and file_delay.
func newLanes(pool *pgxpool.Pool, o postgres.ShipperOptions, arch config.PostgresArchive) ([2]*postgres.Shipper, error) {
	var l [2]*postgres.Shipper
	var store artifacts.Store
	if arch.Dir != "" {
		fs, err := artifacts.NewFS(arch.Dir)
		if err != nil {
			return l, fmt.Errorf("postgres.archive.dir: %w", err)
		}
		store = fs
	}
	for i, lane := range []postgres.Lane{postgres.LaneDecisions, postgres.LaneTicks} {
		o.Lane = lane
		if lane == postgres.LaneTicks && store != nil {
			o.Archive = store
			o.BatchSize, o.MaxDelay = arch.ArchiveFile()
		}
		s, err := postgres.NewShipper(pool, o)
		if err != nil {
			return l, err
		}
		l[i] = s
	}
	return l, nil
}

// start runs the lanes on their own goroutines until Finish.
func start(ctx context.Context, pool *pgxpool.Pool, lanes [2]*postgres.Shipper, dir string) (*Shipper, context.Context) {
	sctx, cancel := context.WithCancel(ctx)
	sh := &Shipper{pool: pool, lanes: lanes, ctx: sctx, cancel: cancel, done: make(chan error, len(lanes)), dir: dir}
	for _, s := range lanes {
		go func() { sh.done <- s.Run(sctx) }()
	}
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
	lanes, err := newLanes(pool, postgres.ShipperOptions{Dir: dir, Tenant: prof.TenantName(),
		BatchSize: pg.BatchRows, MaxDelay: time.Duration(pg.BatchDelay), Acked: jour.Acked, Logger: log}, pg.Archive)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := runjournal.SetHold(dir, HoldName); err != nil {
		pool.Close()
		return nil, err
	}
	sh, sctx := start(context.Background(), pool, lanes, dir)
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

// Stats are both lanes' counters together (safe while it runs): sums,
// with NextOffset the lower lane's and Lag the larger.
func (sh *Shipper) Stats() postgres.ShipperStats {
	d, t := sh.lanes[0].Stats(), sh.lanes[1].Stats()
	st := d
	st.NextOffset, st.Lag, st.LagSeconds = min(d.NextOffset, t.NextOffset), max(d.Lag, t.Lag), max(d.LagSeconds, t.LagSeconds)
	st.Batches, st.Rows, st.Records = d.Batches+t.Batches, d.Rows+t.Rows, min(d.Records, t.Records)
	st.Rejects, st.Errors, st.RowsPerSec = d.Rejects+t.Rejects, d.Errors+t.Errors, d.RowsPerSec+t.RowsPerSec
	for i := range st.BatchSizes {
		st.BatchSizes[i] += t.BatchSizes[i]
	}
	if st.LastError == "" {
		st.LastError = t.LastError
	}
	return st
}

// LaneStats are the decision lane's and the tick lane's counters.
func (sh *Shipper) LaneStats() (decisions, ticks postgres.ShipperStats) {
	return sh.lanes[0].Stats(), sh.lanes[1].Stats()
}

// Finish waits up to drain for both lanes to ship the closed journal of
// records records, calling progress (when set) about every second with
// what is left, then stops them. The summary says whether Postgres has
// everything and, if not, the command that ships the rest.
func (sh *Shipper) Finish(records uint64, drain time.Duration, progress func(left, of uint64)) Summary {
	deadline := time.Now().Add(drain)
	next := time.Now().Add(time.Second)
	for sh.Stats().NextOffset < records && time.Now().Before(deadline) && sh.ctx.Err() == nil {
		if progress != nil && time.Now().After(next) {
			progress(records-sh.Stats().NextOffset, records)
			next = next.Add(time.Second)
		}
		time.Sleep(10 * time.Millisecond)
	}
	sh.cancel()
	for range sh.lanes {
		<-sh.done
	}
	sh.pool.Close()
	st := sh.Stats()
	sum := Summary{Rows: st.Rows, Records: st.Records, NextOffset: st.NextOffset, Batches: st.Batches,
		Rejects: st.Rejects, Errors: st.Errors, RowsPerSec: st.RowsPerSec, CaughtUp: st.NextOffset >= records,
		LastError: st.LastError, Journal: sh.dir}
	d, t := sh.LaneStats()
	sum.Decisions, sum.Ticks = laneSummary(d, records), laneSummary(t, records)
	if sum.CaughtUp {
		if err := runjournal.ReleaseHold(sh.dir, HoldName); err != nil && sum.LastError == "" {
			sum.LastError = err.Error()
		}
	} else {
		sum.Left = records - min(records, st.NextOffset)
		sum.Finish = "thunderline ship " + shellQuote(sh.dir)
	}
	return sum
}

func laneSummary(st postgres.ShipperStats, records uint64) LaneSummary {
	return LaneSummary{Rows: st.Rows, NextOffset: st.NextOffset, CaughtUp: st.NextOffset >= records,
		CommitLagP50: int64(st.CommitLagP50), CommitLagP99: int64(st.CommitLagP99), CommitLagMax: int64(st.CommitLagMax),
		ArchivedTicks: st.ArchivedTicks, ArchivedFiles: st.ArchivedFiles}
}

// shellQuote quotes a path for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '+' || r == '=' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Backfill ships a run's journal to Postgres until it is caught up (the
// journal is closed) or ctx ends: the backfill after a crash or an outage,
// and what `thunderline ship` runs. It resumes from the offset Postgres
// holds for the journal, so rows already shipped are not written again.
func Backfill(ctx context.Context, dsn, dir, tenant string, archive config.PostgresArchive, log *slog.Logger) (Summary, error) {
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
	lanes, err := newLanes(pool, postgres.ShipperOptions{Dir: dir, Tenant: tenant, Logger: log}, archive)
	if err != nil {
		pool.Close()
		return Summary{}, err
	}
	if err := runjournal.SetHold(dir, HoldName); err != nil {
		pool.Close()
		return Summary{}, err
	}
	sh, _ := start(ctx, pool, lanes, dir)
	sum := sh.Finish(records, time.Hour, nil)
	if !sum.CaughtUp {
		return sum, fmt.Errorf("ship: stopped at record %d of %d: %s", sum.NextOffset, records, sum.LastError)
	}
	return sum, nil
}
