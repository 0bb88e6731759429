package engine

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/engine/ship"
	"thunderline/persist/postgres"
	"thunderline/persist/postgres/pgtest"
)

// TestPostgresDrain: a run whose raw ticks cannot reach Postgres before it
// ends (raw_market_ticks locked against writes) has all its decision data
// there anyway (their own lane), ships for postgres.drain with progress
// lines, then says plainly that Postgres is incomplete, how much is left
// and the command that ships it — and that command finishes the job.
func TestPostgresDrain(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	if _, err := ship.Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx) //nolint:errcheck
	if _, err := lock.Exec(ctx, "LOCK TABLE raw_market_ticks IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	prof := testProfile(t, `
tenant: acme
feed: {synthetic: {rate: 50000, symbols: 4, max_ticks: 20000}}
window: {length: 10ms, overlap: 0.5}
journal: {dir: `+t.TempDir()+`, fsync: never}
postgres: {enabled: true, dsn: "`+dsn+`", batch_delay: 20ms, drain: 1500ms}
`)
	var logs bytes.Buffer
	sum, err := RunLive(ctx, RunOptions{Profile: prof, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	pg := sum.Postgres
	if pg == nil || pg.CaughtUp || pg.Left == 0 || pg.Left != sum.Journal.Records-pg.NextOffset ||
		pg.Finish != "thunderline ship "+sum.Journal.Dir || !pg.Decisions.CaughtUp || pg.Ticks.CaughtUp || sum.Traces == 0 {
		t.Fatalf("postgres summary %+v (journal %d records, %d traces)", pg, sum.Journal.Records, sum.Traces)
	}
	var text bytes.Buffer
	sum.Text(&text)
	if !strings.Contains(text.String(), "INCOMPLETE") || !strings.Contains(text.String(), pg.Finish) ||
		!strings.Contains(text.String(), "decision data: complete") {
		t.Fatalf("summary text:\n%s", text.String())
	}
	if !strings.Contains(logs.String(), "shipping what is left") || !strings.Contains(logs.String(), "msg=\"postgres: shipping\"") ||
		!strings.Contains(logs.String(), "incomplete after the drain") {
		t.Fatalf("log:\n%s", logs.String())
	}
	count := func(table string) (n uint64) {
		t.Helper()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := postgres.WithTenant(ctx, tx, "acme"); err != nil {
				return err
			}
			return tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("decision_traces"); n != sum.Traces {
		t.Fatalf("%d traces in Postgres, the run made %d", n, sum.Traces)
	}
	lock.Rollback(ctx) //nolint:errcheck
	bs, err := ship.Backfill(ctx, dsn, sum.Journal.Dir, "acme", prof.Postgres.Archive, slog.New(slog.DiscardHandler))
	if err != nil || !bs.CaughtUp || !bs.Ticks.CaughtUp {
		t.Fatalf("thunderline ship afterwards: %+v, %v", bs, err)
	}
	if n := count("raw_market_ticks"); n != sum.Ticks {
		t.Fatalf("%d raw ticks in Postgres, the run had %d", n, sum.Ticks)
	}
}
