package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var roleSeq atomic.Int64

// tenantRoles creates LOGIN roles in thunderline_engine (as the test
// server's migration role, which has CREATEROLE), dropped when the test
// ends. Call it before migratedPool: cleanups run last first, so the roles
// are dropped after the database.
func tenantRoles(t *testing.T, n int) []string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, testDSN)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for range n {
		name := fmt.Sprintf("tl_tenant_%d_%d", os.Getpid(), roleSeq.Add(1))
		if _, err := admin.Exec(ctx, "CREATE ROLE "+name+" LOGIN IN ROLE thunderline_engine"); err != nil {
			admin.Close()
			t.Fatalf("create role %s: %v", name, err)
		}
		names = append(names, name)
	}
	t.Cleanup(func() {
		defer admin.Close()
		for _, name := range names {
			if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+name); err != nil {
				t.Errorf("drop role %s: %v", name, err)
			}
		}
	})
	return names
}

// bind maps role to tenant in tenant_roles (as the migration role).
func bind(t *testing.T, owner *pgxpool.Pool, role, tenant string) {
	t.Helper()
	if _, err := owner.Exec(context.Background(), "INSERT INTO tenant_roles (role_name, tenant_id) VALUES ($1, $2)", role, tenant); err != nil {
		t.Fatal(err)
	}
}

func rolePool(t *testing.T, dsn, role string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), asUser(t, dsn, role))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// seedTenant ships a small journal and runs a federation (leases, a round,
// a rollup, an artifact, its candidate expert) as the tenant's own role, so
// the engine's grants are shown to be enough for both, and returns the
// journal id.
func seedTenant(t *testing.T, pool *pgxpool.Pool, tenant string) string {
	t.Helper()
	ctx := context.Background()
	if n, err := EnsurePartitions(ctx, pool, 3); err != nil || n != 0 {
		t.Fatalf("EnsurePartitions as %s: %d, %v", tenant, n, err)
	}
	g := newGenJournal(t, tenant)
	g.windows(12)
	g.end()
	jid := "run-" + tenant
	s, stop := runShipper(t, pool, ShipperOptions{Dir: g.dir, Tenant: tenant, JournalID: jid, MaxDelay: time.Millisecond, Poll: time.Millisecond})
	waitShipped(t, s, g.n, 20*time.Second)
	stop()
	if st := s.Stats(); st.Errors != 0 {
		t.Fatalf("shipping as %s: %+v", tenant, st)
	}
	checkShipped(t, pool, g, jid)
	fl := newFL(t, pool, tenant)
	fed := must[Federation](t, "create")(fl.CreateFederation(ctx, FederationInput{Name: "f-" + tenant, SpecYAML: specYAML, CreatedBy: "alice"}))
	fed = must[Federation](t, "start")(fl.StartFederation(ctx, fed.ID))
	// A federation's whole life, as the tenant's role.
	lease := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "c1", "s3://manifest", time.Now().Add(time.Hour), 1, 0))
	must[Lease](t, "claim")(fl.ClaimLease(ctx, lease.ID, "c1"))
	must[Lease](t, "join")(fl.JoinClient(ctx, lease.ID, "c1"))
	// A lease that expires: issued a moment ahead (an expiry in the past is
	// refused), then waited out.
	expiry := time.Now().Add(1500 * time.Millisecond)
	expiring := must[Lease](t, "issue c2")(fl.IssueLease(ctx, fed.ID, "c2", "s3://manifest", expiry, 1, 0))
	time.Sleep(time.Until(expiry) + 10*time.Millisecond)
	if gone, err := fl.ExpireLeases(ctx, fed.ID); err != nil || len(gone) != 1 || gone[0].ID != expiring.ID {
		t.Fatalf("expire leases as %s: %v, %v", tenant, gone, err)
	}
	round := must[Round](t, "round")(fl.StartRound(ctx, fed.ID, 1))
	must[Rollup](t, "aggregate")(fl.RecordAggregate(ctx, round.ID, json.RawMessage(`{"loss":1}`)))
	must[Round](t, "complete round")(fl.CompleteRound(ctx, round.ID, json.RawMessage(`{"loss":1}`)))
	must[Lease](t, "complete lease")(fl.CompleteLease(ctx, lease.ID))
	sum := sha256.Sum256([]byte(tenant))
	art := must[Artifact](t, "artifact")(fl.RecordArtifact(ctx, fed.ID, round.ID, "s3://m/"+tenant, sum[:], 1, "safetensors"))
	must[Expert](t, "register")(fl.RegisterCandidate(ctx, fed.ID, art.ID))
	return jid
}

// tenantTables are the tables carrying a tenant's data.
var tenantTables = []string{"raw_market_ticks", "raw_edgar_docs", "feature_windows", "window_labels", "decision_traces",
	"lineage_edges", "rejects", "outbox", "journal_symbols", "shipper_offsets", "experts", "federations", "fl_rounds",
	"client_leases", "model_artifacts", "metrics_rollups", "export_jobs"}

// visible counts the rows of each tenant table the pool's role sees, per
// tenant_id ("denied" where it may not read the table at all).
func visible(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range tenantTables {
		rows, err := pool.Query(context.Background(), "SELECT tenant_id, count(*) FROM "+table+" GROUP BY 1 ORDER BY 1")
		if err != nil {
			if isCode(err, "42501") {
				out[table] = "denied"
				continue
			}
			t.Fatalf("read %s: %v", table, err)
		}
		var parts []string
		var tenant string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&tenant, &n}, func() error { parts = append(parts, fmt.Sprintf("%s=%d", tenant, n)); return nil }); err != nil {
			if isCode(err, "42501") {
				out[table] = "denied"
				continue
			}
			t.Fatalf("read %s: %v", table, err)
		}
		out[table] = strings.Join(parts, ",")
	}
	return out
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// TestTenantRoleIsolation: as tenant A's login role, every statement that
// could reach tenant B's rows fails or sees none; A still reads and writes
// its own.
func TestTenantRoleIsolation(t *testing.T) {
	ctx := context.Background()
	roles := tenantRoles(t, 3)
	roleA, roleB, roleC := roles[0], roles[1], roles[2]
	owner, dsn := migratedPool(t)
	bind(t, owner, roleA, "ta")
	bind(t, owner, roleB, "tb")
	poolA, poolB, poolC := rolePool(t, dsn, roleA), rolePool(t, dsn, roleB), rolePool(t, dsn, roleC)
	seedTenant(t, poolA, "ta")
	jidB := seedTenant(t, poolB, "tb")
	seenA, seenB := visible(t, poolA), visible(t, poolB)
	for _, table := range tenantTables {
		a, b := seenA[table], seenB[table]
		if strings.Contains(a, "tb=") || strings.Contains(b, "ta=") {
			t.Errorf("%s: A sees %q, B sees %q", table, a, b)
		}
	}
	if seenA["experts"] != "ta=1" || seenA["shipper_offsets"] != "ta=1" || seenB["experts"] != "tb=1" || !strings.HasPrefix(seenA["feature_windows"], "ta=") {
		t.Errorf("own rows: A %v, B %v", seenA, seenB)
	}
	if seenA["export_jobs"] != "denied" {
		t.Errorf("export_jobs as the engine role: %q, want denied (no grant)", seenA["export_jobs"])
	}

	// Each attack on its own connection, as A: it must fail, or touch none
	// of B's rows.
	attacks := []struct {
		name string
		sql  []string // run in order on one connection; the last one is judged
		rows bool     // it may succeed, affecting 0 rows / reading 0 of B's
	}{
		{"select B", []string{"SELECT * FROM feature_windows WHERE tenant_id = 'tb'"}, true},
		{"update B", []string{"UPDATE feature_windows SET key = 'x' WHERE tenant_id = 'tb'"}, true},
		{"move B's offset", []string{"UPDATE shipper_offsets SET next_offset = 0 WHERE journal_id = '" + jidB + "'"}, true},
		{"delete B", []string{"DELETE FROM feature_windows WHERE tenant_id = 'tb'"}, false},
		{"delete B's offset", []string{"DELETE FROM shipper_offsets"}, false},
		{"insert as B", []string{"INSERT INTO outbox (tenant_id, topic, event_id, payload) VALUES ('tb', 'x', gen_random_uuid(), '\\x00')"}, false},
		{"insert B's offset", []string{"INSERT INTO shipper_offsets (tenant_id, journal_id, next_offset) VALUES ('tb', 'j', 0)"}, false},
		{"move own row to B", []string{"UPDATE shipper_offsets SET tenant_id = 'tb'"}, false},
		{"read B's experts", []string{"SELECT * FROM experts WHERE tenant_id = 'tb'"}, true},
		{"write B's expert", []string{"INSERT INTO experts (id, tenant_id, name, version, status, latency_budget_ms) VALUES (gen_random_uuid(), 'tb', 'x', '1', 'shadow', 5)"}, false},
		{"update experts", []string{"UPDATE experts SET status = 'live'"}, false},
		{"setting", []string{"SELECT set_config('thunderline.tenant', 'tb', false)", "SELECT * FROM feature_windows WHERE tenant_id = 'tb'"}, true},
		{"setting tenant()", []string{"SET thunderline.tenant = 'tb'", "SELECT 1 WHERE thunderline_tenant() = 'tb'"}, true},
		{"set role B", []string{"SET ROLE " + roleB}, false},
		{"set role system", []string{"SET ROLE thunderline_system"}, false},
		{"session authorization", []string{"SET SESSION AUTHORIZATION " + roleB}, false},
		{"as the group", []string{"SET ROLE thunderline_engine", "SELECT * FROM feature_windows WHERE tenant_id = 'tb'"}, true},
		{"disable rls", []string{"ALTER TABLE feature_windows DISABLE ROW LEVEL SECURITY"}, false},
		{"no force", []string{"ALTER TABLE shipper_offsets NO FORCE ROW LEVEL SECURITY"}, false},
		{"alter policy", []string{"ALTER POLICY tenant_isolation ON experts USING (true)"}, false},
		{"drop policy", []string{"DROP POLICY tenant_isolation ON outbox"}, false},
		{"create policy", []string{"CREATE POLICY open ON outbox USING (true)"}, false},
		{"truncate", []string{"TRUNCATE feature_windows"}, false},
		{"truncate offsets", []string{"TRUNCATE shipper_offsets"}, false},
		{"write schema_migrations", []string{"INSERT INTO schema_migrations (version) VALUES ('9999_evil')"}, false},
		{"delete schema_migrations", []string{"DELETE FROM schema_migrations"}, false},
		{"rebind", []string{"UPDATE tenant_roles SET tenant_id = 'tb'"}, false},
		{"bind", []string{"INSERT INTO tenant_roles VALUES ('" + roleC + "', 'tb')"}, false},
		{"drop partitions", []string{"SELECT drop_partitions_before('feature_windows', now() + interval '10 years')"}, false},
		{"secure", []string{"SELECT thunderline_secure('feature_windows')"}, false},
		{"partitions unbounded", []string{"SELECT thunderline_ensure_partitions(100000)"}, false},
		{"crafted search_path", []string{"CREATE TEMP TABLE tenant_roles (role_name text, tenant_id text)",
			"INSERT INTO pg_temp.tenant_roles VALUES (session_user, 'tb')", "SET search_path = pg_temp, public",
			"SELECT * FROM feature_windows WHERE tenant_id = 'tb' OR thunderline_tenant() = 'tb'"}, true},
		{"shadow function", []string{"CREATE FUNCTION pg_temp.thunderline_tenant() RETURNS text LANGUAGE sql AS $$SELECT 'tb'::text$$",
			"SET search_path = pg_temp, public", "SELECT * FROM decision_traces WHERE tenant_id = pg_temp.thunderline_tenant()"}, true},
		{"create table", []string{"CREATE TABLE public.mine (x int)"}, false},
		{"alter table", []string{"ALTER TABLE experts ADD COLUMN x int"}, false},
	}
	for _, a := range attacks {
		conn, err := pgx.Connect(ctx, asUser(t, dsn, roleA))
		if err != nil {
			t.Fatal(err)
		}
		var last error
		var affected int64
		for i, q := range a.sql {
			var tag pgconn.CommandTag
			if strings.HasPrefix(q, "SELECT") {
				rows, err := conn.Query(ctx, q)
				if err == nil {
					for rows.Next() {
					}
					rows.Close()
					err = rows.Err()
					tag = rows.CommandTag()
				}
				last = err
			} else {
				tag, last = conn.Exec(ctx, q)
			}
			if last != nil && i < len(a.sql)-1 {
				t.Errorf("%s: setup %q: %v", a.name, q, last)
			}
			affected = tag.RowsAffected()
		}
		conn.Close(ctx)
		t.Logf("%s: %d rows, %v", a.name, affected, last)
		switch {
		case last == nil && !a.rows:
			t.Errorf("%s: succeeded as tenant A's role (%d rows)", a.name, affected)
		case last == nil && affected != 0:
			t.Errorf("%s: touched %d rows", a.name, affected)
		case last != nil && a.rows:
			t.Errorf("%s: %v (want 0 rows, not an error)", a.name, last)
		}
	}
	if after := visible(t, poolB); fmt.Sprint(after) != fmt.Sprint(seenB) {
		t.Errorf("B's rows changed: %v, then %v", seenB, after)
	}

	// A still writes and reads its own; its binding, not the setting,
	// decides the tenant of a default tenant_id.
	if _, err := poolA.Exec(ctx, "INSERT INTO shipper_offsets (journal_id, next_offset) VALUES ('own', 7)"); err != nil {
		t.Errorf("A writes its own offset: %v", err)
	}
	var own string
	if err := poolA.QueryRow(ctx, "SELECT tenant_id FROM shipper_offsets WHERE journal_id = 'own'").Scan(&own); err != nil || own != "ta" {
		t.Errorf("A's new offset: tenant %q, %v", own, err)
	}
	if tag, err := poolA.Exec(ctx, "UPDATE shipper_offsets SET next_offset = 8 WHERE journal_id = 'own'"); err != nil || tag.RowsAffected() != 1 {
		t.Errorf("A moves its own offset: %v, %v", tag, err)
	}

	// At connect: a profile naming another tenant than the binding is
	// refused, and so is an engine role bound to none (which sees nothing).
	if err := CheckTenant(ctx, poolA, "ta"); err != nil {
		t.Errorf("CheckTenant(A, ta) = %v", err)
	}
	err := CheckTenant(ctx, poolA, "tb")
	if !errors.Is(err, ErrWrongTenant) || !strings.Contains(err.Error(), `"ta"`) || !strings.Contains(err.Error(), roleA) {
		t.Errorf("CheckTenant(A, tb) = %v, want ErrWrongTenant naming the role and its tenant", err)
	}
	if err := CheckTenant(ctx, poolC, "tb"); !errors.Is(err, ErrUnboundRole) {
		t.Errorf("CheckTenant(unbound, tb) = %v, want ErrUnboundRole", err)
	}
	if seen := visible(t, poolC); seen["feature_windows"] != "" || seen["experts"] != "" || seen["shipper_offsets"] != "" {
		t.Errorf("an unbound engine role sees %v", seen)
	}
	s, err := NewShipper(poolA, ShipperOptions{Dir: t.TempDir(), Tenant: "tb", JournalID: jidB})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.load(ctx); !errors.Is(err, ErrWrongTenant) {
		t.Errorf("a shipper of tb on A's role: %v, want ErrWrongTenant", err)
	}
	// The migration role (unbound, trusted) chooses its tenant per
	// transaction as before, and Migrate as A changes nothing.
	if err := CheckTenant(ctx, owner, "tb"); err != nil {
		t.Errorf("CheckTenant(migration role, tb) = %v", err)
	}
	if applied, err := Migrate(ctx, poolA); err != nil || len(applied) != 0 {
		t.Errorf("Migrate as A on a current schema: %v, %v", applied, err)
	}
}

// TestTenantRoleMigrate: 0006_tenancy on a database of the earlier
// migrations with data in it gives shipper_offsets and experts rows their
// tenant (the journal's rows', the federation's, else 'default'), moves
// every table (partitions included) to the login-bound policy, and
// Migrate stays idempotent.
func TestTenantRoleMigrate(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// The schema as 0005 left it, the way Migrate recorded it.
	if _, err := pool.Exec(ctx, "CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"0001_core", "0002_rls", "0003_retention", "0004_edgar", "0005_federation"} {
		sql, err := migrationFS.ReadFile("migrations/" + v + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, string(sql)); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if _, err := pool.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v); err != nil {
			t.Fatal(err)
		}
	}
	as := func(tenant string, sql string, args ...any) {
		t.Helper()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := WithTenant(ctx, tx, tenant); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
		if err != nil {
			t.Fatalf("as %s: %s: %v", tenant, sql, err)
		}
	}
	as("acme", "INSERT INTO outbox (tenant_id, topic, journal_id, journal_offset, payload) VALUES ('acme', 'run.meta', 'j-acme', 0, '\\x00')")
	as("acme", "INSERT INTO journal_symbols (tenant_id, journal_id, symbol_id, name) VALUES ('acme', 'j-acme', 0, 'ESZ6')")
	as("lab", "INSERT INTO rejects (tenant_id, journal_id, journal_offset, source, kind, reason) VALUES ('lab', 'j-lab', 0, 'shipper', 1, 'x')")
	as("acme", "INSERT INTO shipper_offsets (journal_id, next_offset) VALUES ('j-acme', 2), ('j-lab', 1), ('j-none', 0)")
	const fedID = "11111111-1111-1111-1111-111111111111"
	as("lab", "INSERT INTO federations (id, tenant_id, name, spec_yaml, created_by) VALUES ($1, 'lab', 'f', 'x', 'alice')", fedID)
	as("lab", `INSERT INTO experts (id, name, version, status, latency_budget_ms, metrics) VALUES
		(gen_random_uuid(), 'fl-f', $1, 'shadow', 5, jsonb_build_object('federation_id', $1::text)),
		(gen_random_uuid(), 'momentum', '1', 'live', 5, '{}')`, fedID)

	applied, err := Migrate(ctx, pool)
	if err != nil || len(applied) != 3 || applied[0] != "0006_tenancy" || applied[1] != "0007_tick_files" || applied[2] != "0008_writers" {
		t.Fatalf("Migrate over 0005: %v, %v", applied, err)
	}
	got := func(tenant, sql string) string {
		t.Helper()
		var out []string
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := WithTenant(ctx, tx, tenant); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, sql)
			if err != nil {
				return err
			}
			out, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatalf("as %s: %s: %v", tenant, sql, err)
		}
		return strings.Join(out, ",")
	}
	offsets := "SELECT tenant_id || ':' || journal_id || '@' || next_offset FROM shipper_offsets ORDER BY journal_id"
	names := "SELECT tenant_id || ':' || name FROM experts ORDER BY name"
	for _, c := range []struct{ tenant, sql, want string }{
		{"acme", offsets, "acme:j-acme@2"},
		{"lab", offsets, "lab:j-lab@1"},
		{"default", offsets, "default:j-none@0"},
		{"lab", names, "lab:fl-f"},
		{"default", names, "default:momentum"},
		{"acme", names, ""},
	} {
		if g := got(c.tenant, c.sql); g != c.want {
			t.Errorf("as %s: %s = %q, want %q", c.tenant, c.sql, g, c.want)
		}
	}
	// Every tenant_isolation policy (partitions included) is the bound one.
	var stale []string
	rows, err := pool.Query(ctx, `SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation'
		AND (qual NOT LIKE '%thunderline_tenant()%' OR with_check NOT LIKE '%thunderline_tenant()%' OR qual LIKE '%current_setting%')`)
	if err != nil {
		t.Fatal(err)
	}
	if stale, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(stale) != 0 {
		t.Errorf("policies still on the setting: %v, %v", stale, err)
	}
	var policies, tables int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_policies WHERE policyname = 'tenant_isolation'),
		(SELECT count(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'tenant_roles')`).Scan(&policies, &tables); err != nil ||
		policies != tables || tables != 18+10 {
		t.Errorf("%d tenant_isolation policies on %d tables with tenant_id (18 tables with tick_files, 10 partitions), %v", policies, tables, err)
	}
	for range 2 {
		if again, err := Migrate(ctx, pool); err != nil || len(again) != 0 {
			t.Fatalf("Migrate again: %v, %v", again, err)
		}
	}
	// A shipper of acme resumes at the backfilled offset.
	s, err := NewShipper(pool, ShipperOptions{Dir: t.TempDir(), Tenant: "acme", JournalID: "j-acme"})
	if err != nil {
		t.Fatal(err)
	}
	if off, err := s.load(ctx); err != nil || off != 2 || s.symbols[0] != "ESZ6" {
		t.Errorf("acme's shipper loads offset %d, symbols %v, %v; want 2", off, s.symbols, err)
	}
}
