package edgar

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/engine/config"
	"thunderline/persist/postgres"
	"thunderline/persist/postgres/pgtest"
)

// The EDGAR path ships to Postgres from its journal: one raw_edgar_docs
// row per filing document, the EDGAR windows as filled (Partial→Fill moved
// the open row), the trace and the lineage edges. Also through a writer
// login (BYPASSRLS, in thunderline_writers), whose grants must be enough
// for EDGAR batches (they take the staging path).
func TestEdgarShipsToPostgres(t *testing.T) {
	t.Run("migration role", func(t *testing.T) { edgarShips(t, false) })
	t.Run("writer", func(t *testing.T) { edgarShips(t, true) })
}

func edgarShips(t *testing.T, writer bool) {
	dsn := pgtest.DSN(t)
	t.Setenv("THUNDERLINE_PG_DSN", dsn)
	if writer {
		owner, err := pgxpool.New(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer owner.Close()
		if _, err := postgres.Migrate(context.Background(), owner); err != nil {
			t.Fatal(err)
		}
		if _, err := owner.Exec(context.Background(), "INSERT INTO tenant_roles VALUES ('thunderline_writer', 'filer')"); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User("thunderline_writer")
		t.Setenv("THUNDERLINE_PG_DSN", u.String())
	}
	prof, err := config.Parse([]byte("tenant: filer\npostgres: {enabled: true, batch_rows: 3, batch_delay: 20ms, drain: 60s}\n"), "edgar-pg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	jdir := filepath.Join(t.TempDir(), "j")
	s := ingestDir(t, partialFillDir(t), Options{Profile: prof, JournalDir: jdir})
	if s.Postgres == nil || !s.Postgres.CaughtUp || s.Postgres.Rejects != 0 {
		t.Fatalf("postgres: %+v", s.Postgres)
	}
	// Read as the tenant: its setting for the whole session (the engine
	// sets it per transaction, postgres.WithTenant).
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams[postgres.TenantSetting] = "filer"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	one := func(q string, dst ...any) {
		t.Helper()
		if err := pool.QueryRow(ctx, q).Scan(dst...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var docs, withSections, nullFiled int
	one(`SELECT count(*), count(*) FILTER (WHERE sections <> '{}'), count(*) FILTER (WHERE filing_time IS NULL) FROM raw_edgar_docs`,
		&docs, &withSections, &nullFiled)
	if docs != 2 || withSections != 1 || nullFiled != 2 {
		t.Fatalf("raw_edgar_docs: %d rows, %d with sections, %d without filing time", docs, withSections, nullFiled)
	}
	var revenue string
	one(`SELECT f->>'value' FROM raw_edgar_docs, jsonb_array_elements(xbrl) f
		WHERE name = '1-aapl-fy2024-facts.xml' AND f->>'fact' = 'us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax'`, &revenue)
	if revenue != "391035000000" {
		t.Fatalf("revenue in raw_edgar_docs.xbrl: %s", revenue)
	}
	var wins int
	var status, form string
	var words float64
	one(`SELECT count(*), min(status), min(provenance->>'form'), min((provenance->'sentiment'->>'words')::float8)
		FROM feature_windows WHERE kind = 'edgar' AND key = 'CIK0000320193'`, &wins, &status, &form, &words)
	if wins != 1 || status != "filled" || form != "10-K" || words == 0 {
		t.Fatalf("feature_windows: %d rows, status %s, form %s, words %v", wins, status, form, words)
	}
	var hashOK bool
	one(`SELECT w.hash = t.window_hash FROM feature_windows w JOIN decision_traces t ON t.feature_window_id = w.id`, &hashOK)
	if !hashOK {
		t.Fatal("the trace was made from another version of the window than the one stored")
	}
	var docWindow, docFill int
	one(`SELECT count(*) FILTER (WHERE edge_type = 'doc_window'), count(*) FILTER (WHERE edge_type = 'doc_fill') FROM lineage_edges`,
		&docWindow, &docFill)
	if docWindow != 1 || docFill != 1 {
		t.Fatalf("lineage edges: doc_window %d, doc_fill %d", docWindow, docFill)
	}
	var linked int
	one(`SELECT count(*) FROM lineage_edges e JOIN raw_edgar_docs d ON d.id = e.from_id WHERE e.edge_type IN ('doc_window', 'doc_fill')`, &linked)
	if linked != 2 {
		t.Fatalf("%d lineage edges name a raw_edgar_docs row, want 2", linked)
	}
}
