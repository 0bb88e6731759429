package postgres

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	applied, err := Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"0001_core", "0002_rls", "0003_retention", "0004_edgar", "0005_federation", "0006_tenancy", "0007_tick_files", "0008_writers"}; !slices.Equal(applied, want) {
		t.Fatalf("applied %v, want %v", applied, want)
	}
	schema := func() []string {
		rows, err := pool.Query(ctx, `SELECT c.relname || ':' || c.relkind::text || ':' || c.relrowsecurity::text || c.relforcerowsecurity::text
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := schema()
	for _, want := range []string{"raw_market_ticks:p:truetrue", "feature_windows:p:truetrue", "feature_windows_default:r:truetrue",
		"decision_traces:r:truetrue", "raw_edgar_docs:r:truetrue", "lineage_edges:r:truetrue", "export_jobs:r:truetrue",
		"rejects:r:truetrue", "outbox:r:truetrue", "window_labels:r:truetrue", "experts:r:truetrue",
		"shipper_offsets:r:truetrue", "tenant_roles:r:falsefalse", "schema_migrations:r:falsefalse"} {
		if !slices.Contains(before, want) {
			t.Errorf("schema lacks %s", want)
		}
	}
	// Every table with a tenant_id (partitions included) is under forced
	// RLS with the tenant_isolation policy.
	var open []string
	rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'tenant_roles'
		AND NOT (c.relrowsecurity AND c.relforcerowsecurity
			AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'))
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if open, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	if len(open) != 0 {
		t.Errorf("tables with tenant_id but no forced tenant_isolation policy: %v", open)
	}
	// Monthly partitions of this month and 3 ahead, secured like the parent.
	var parts int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE c.relname ~ '_y[0-9]{4}m[0-9]{2}$' AND c.relrowsecurity AND c.relforcerowsecurity`).Scan(&parts); err != nil {
		t.Fatal(err)
	}
	if parts != 2*4 {
		t.Errorf("%d secured monthly partitions, want 8", parts)
	}
	n, err := EnsurePartitions(ctx, pool, 5)
	if err != nil || n != 2*2 {
		t.Errorf("EnsurePartitions(5) = %d, %v; want 4 new", n, err)
	}

	again, err := Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("second Migrate applied %v", again)
	}
	after := schema()
	if len(after) != len(before)+4 { // the 4 partitions of EnsurePartitions, with no other change
		t.Errorf("schema changed by the second Migrate: %d relations, then %d", len(before), len(after))
	}

	// Retention drops whole months: this one and the next end by the
	// cutoff; the default partition stays.
	var dropped int
	if err := pool.QueryRow(ctx, "SELECT drop_partitions_before('feature_windows', date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '2 months')").Scan(&dropped); err != nil {
		t.Fatal(err)
	}
	if dropped != 2 {
		t.Errorf("drop_partitions_before dropped %d partitions, want 2", dropped)
	}
	if n := len(schema()); n != len(after)-2 {
		t.Errorf("%d relations after dropping 2 of %d: %v then %v", n, len(after), after, schema())
	}
}

func TestRLS(t *testing.T) {
	ctx := context.Background()
	pool, dsn := migratedPool(t)
	insert := func(tenant, rowTenant string, slice string) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := WithTenant(ctx, tx, tenant); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO export_jobs (tenant_id, slice_spec) VALUES ($1, $2)", rowTenant, slice)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO feature_windows (id, tenant_id, kind, key, window_start, window_end, start_ns, end_ns,
				status, features, label_spec, feature_schema_version, provenance, hash, journal_id, journal_offset)
				VALUES (gen_random_uuid(), $1, 'market', 'ES', '2001-01-01', '2001-01-01', 0, 0, 'open', '{}', '{}', 1, '{}', '\x00', 'j', 0)`,
				rowTenant)
			return err
		})
	}
	for _, tn := range []string{"a", "a", "b"} {
		if err := insert(tn, tn, `{"t":"`+tn+`"}`); err != nil {
			t.Fatalf("insert as %s: %v", tn, err)
		}
	}
	count := func(p *pgxpool.Pool, tenant, table string) int {
		var n int
		err := pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
			if tenant != "" {
				if err := WithTenant(ctx, tx, tenant); err != nil {
					return err
				}
			}
			return tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		})
		if err != nil {
			t.Fatalf("count %s as %q: %v", table, tenant, err)
		}
		return n
	}
	for _, table := range []string{"export_jobs", "feature_windows", "feature_windows_default"} {
		if a, b, none := count(pool, "a", table), count(pool, "b", table), count(pool, "", table); a != 2 || b != 1 || none != 0 {
			t.Errorf("%s: tenant a sees %d, b %d, no tenant %d; want 2, 1, 0", table, a, b, none)
		}
	}
	var other int
	pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		WithTenant(ctx, tx, "a")
		return tx.QueryRow(ctx, "SELECT count(*) FROM export_jobs WHERE tenant_id = 'b'").Scan(&other)
	})
	if other != 0 {
		t.Errorf("tenant a reads %d rows of b", other)
	}
	// Writing a row of b as a fails, on a plain and a partitioned table.
	err := insert("a", "b", "{}")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("insert of b's row as a: %v, want an RLS violation (42501)", err)
	}
	// Updating a's row to b fails too.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		WithTenant(ctx, tx, "a")
		_, err := tx.Exec(ctx, "UPDATE export_jobs SET tenant_id = 'b'")
		return err
	})
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("moving a's row to b: %v, want 42501", err)
	}
	// The setting does not outlive its transaction on a pooled connection.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var setting string
	conn.QueryRow(ctx, "SELECT coalesce(current_setting('thunderline.tenant', true), '')").Scan(&setting)
	conn.Release()
	if setting != "" {
		t.Errorf("tenant setting %q leaked out of its transaction", setting)
	}
	if err := WithTenant(ctx, nil, ""); !errors.Is(err, ErrNoTenant) {
		t.Errorf("WithTenant(\"\") = %v", err)
	}
	// The engine's role does not bypass RLS; the system role reads every
	// tenant and writes none.
	var bypass, super bool
	pool.QueryRow(ctx, "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&bypass, &super)
	if bypass || super {
		t.Errorf("test role bypasses RLS (bypassrls %v, superuser %v)", bypass, super)
	}
	sys, err := pgxpool.New(ctx, asUser(t, dsn, "thunderline_system"))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	if n := count(sys, "", "export_jobs"); n != 3 {
		t.Errorf("system role sees %d export jobs, want 3", n)
	}
	if n := count(sys, "", "feature_windows"); n != 3 {
		t.Errorf("system role sees %d windows, want 3", n)
	}
	_, err = sys.Exec(ctx, "DELETE FROM feature_windows")
	if err == nil {
		t.Error("system role deleted windows")
	}
}
