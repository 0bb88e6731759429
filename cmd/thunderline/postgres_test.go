package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/engine"
	"thunderline/hotpath/window"
	"thunderline/persist/postgres"
	"thunderline/persist/postgres/pgtest"
)

// TestKill9WhileShippingThenShip: the engine is killed with SIGKILL while it
// journals and ships to Postgres; `thunderline ship` then resumes from the
// offset Postgres committed: every window and trace of the journal is in
// Postgres exactly once, with the journal's hashes.
func TestKill9WhileShippingThenShip(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.yaml")
	os.WriteFile(prof, []byte(`
tenant: acme
feed: {pace: realtime, synthetic: {rate: 100000, symbols: 16}}
normalize: {seq: contiguous}
journal: {dir: `+filepath.Join(dir, "j")+`, fsync: interval}
admin: {enabled: false}
progress: {interval: 100ms}
postgres: {enabled: true, batch_rows: 2000, batch_delay: 50ms}
`), 0o644)
	signalAt(t, prof, 150_000, syscall.SIGKILL, 60*time.Second, []string{"THUNDERLINE_PG_DSN=" + dsn})

	runs, _ := filepath.Glob(filepath.Join(dir, "j", "run-*"))
	if len(runs) != 1 {
		t.Fatalf("journal runs %v", runs)
	}
	code, out, errOut := cli(t, "ship", "--dsn", dsn, runs[0])
	if code != 0 {
		t.Fatalf("ship after kill -9: exit %d\n%s%s", code, out, errOut)
	}
	rec, err := engine.LoadRecorded(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Windows) == 0 || len(rec.Traces) == 0 {
		t.Fatalf("the killed run journaled %v", rec.Kinds)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rows := func(table string) map[string]string {
		t.Helper()
		got := map[string]string{}
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := postgres.WithTenant(ctx, tx, "acme"); err != nil {
				return err
			}
			rs, err := tx.Query(ctx, "SELECT id::text, hash FROM "+table)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var id string
				var h []byte
				if err := rs.Scan(&id, &h); err != nil {
					return err
				}
				if _, dup := got[id]; dup {
					return fmt.Errorf("%s: id %s twice", table, id)
				}
				got[id] = hex.EncodeToString(h)
			}
			return rs.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	check := func(table string, want map[[16]byte][32]byte) {
		t.Helper()
		got := rows(table)
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows in Postgres, %d in the journal", table, len(got), len(want))
		}
		for id, h := range want {
			if got[window.FormatUUID(id)] != hex.EncodeToString(h[:]) {
				t.Fatalf("%s: row %s missing or with another hash", table, window.FormatUUID(id))
			}
		}
	}
	check("feature_windows", rec.Windows)
	check("decision_traces", rec.Traces)
}
