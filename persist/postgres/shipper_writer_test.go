package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// writerPool returns a pool logged in as thunderline_writer (BYPASSRLS, in
// thunderline_writers; made by pg-start.sh) bound to tenant in this
// database.
func writerPool(t testing.TB, owner *pgxpool.Pool, dsn, tenant string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	if _, err := owner.Exec(ctx, "INSERT INTO tenant_roles (role_name, tenant_id) VALUES ('thunderline_writer', $1)", tenant); err != nil {
		t.Fatal(err)
	}
	p, err := pgxpool.New(ctx, asUser(t, dsn, "thunderline_writer"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	var bypass bool
	if err := p.QueryRow(ctx, "SELECT rolbypassrls FROM pg_roles WHERE rolname = session_user").Scan(&bypass); err != nil || !bypass {
		t.Fatalf("thunderline_writer: bypassrls %v, %v (pg-start.sh makes it)", bypass, err)
	}
	return p
}

// TestWriterRoleCopies: a shipper logged in as a writer role (BYPASSRLS,
// bound to its tenant) COPYs ticks, traces, edges, rejects and outbox rows
// straight into their tables: every record lands exactly once, the same as
// through staging. A second journal with the same decisions (a replay of
// the same input) ships too: its traces, already stored, are left out, not
// a failed batch.
func TestWriterRoleCopies(t *testing.T) {
	owner, dsn := migratedPool(t)
	w := writerPool(t, owner, dsn, "acme")
	g := newGenJournal(t, "acme")
	g.windows(300)
	g.malformed()
	g.windows(20)
	g.end()
	s, stop := runShipper(t, w, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: "run-w", BatchSize: 500,
		MaxDelay: 10 * time.Millisecond, Poll: time.Millisecond})
	waitShipped(t, s, g.n, 20*time.Second)
	stop()
	if !s.direct {
		t.Fatal("a BYPASSRLS login did not take the direct COPY path")
	}
	checkShipped(t, owner, g, "run-w")
	if st := s.Stats(); st.Rows != g.n || st.Errors != 0 {
		t.Fatalf("stats %+v for %d records", st, g.n)
	}

	g2 := newGenJournal(t, "acme")
	g2.windows(300)
	g2.end()
	s2, stop2 := runShipper(t, w, ShipperOptions{Dir: g2.dir, Tenant: g2.tenant, JournalID: "run-w2", BatchSize: 500,
		MaxDelay: 10 * time.Millisecond, Poll: time.Millisecond})
	waitShipped(t, s2, g2.n, 20*time.Second)
	stop2()
	st := s2.Stats()
	if st.Errors != 0 || st.Rows != g2.n-uint64(g2.want["decision_traces"]+g2.want["feature_windows"]+g2.want["window_labels"]) {
		t.Fatalf("second journal: %+v (its traces, windows and labels already there)", st)
	}
}

// TestWriterRoleTenancy: the writer login bypasses row-level security, so
// the shipper names the tenant in every statement it sends: a writer bound
// to tenant ta shipping journal "shared" neither reads nor moves tenant
// tb's offset or symbols of a journal with the same id. The writer may act
// for its own tenant only, may not delete, truncate or change the schema
// and its policies, may not read the data it ships (its grants), and what
// it ships stays hidden from another tenant's login role.
func TestWriterRoleTenancy(t *testing.T) {
	ctx := context.Background()
	roleB := tenantRoles(t, 1)[0]
	owner, dsn := migratedPool(t)
	bind(t, owner, roleB, "tb")
	err := pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, "tb"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO shipper_offsets (journal_id, next_offset) VALUES ('shared', 5), ('shared#ticks', 5);
			INSERT INTO journal_symbols (tenant_id, journal_id, symbol_id, name) VALUES ('tb', 'shared', 0, 'SECRET')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	w := writerPool(t, owner, dsn, "ta")
	g := newGenJournal(t, "ta")
	g.windows(200)
	g.end()
	for _, lane := range []Lane{LaneDecisions, LaneTicks} {
		s, stop := runShipper(t, w, ShipperOptions{Dir: g.dir, Tenant: "ta", JournalID: "shared", Lane: lane, BatchSize: 500,
			MaxDelay: 10 * time.Millisecond, Poll: time.Millisecond})
		waitFor(t, 20*time.Second, "the lane to ship the journal", func() bool {
			st := s.Stats()
			if st.LastError != "" {
				t.Fatalf("lane %q: %s", lane, st.LastError)
			}
			return st.NextOffset == g.n
		})
		stop()
		if st := s.Stats(); st.Errors != 0 {
			t.Fatalf("lane %q: %+v", lane, st)
		}
	}
	checkShipped(t, owner, g, "shared")
	var offs, names []string
	var secret int
	for _, tenant := range []string{"ta", "tb"} {
		err = pgx.BeginFunc(ctx, owner, func(tx pgx.Tx) error {
			if err := WithTenant(ctx, tx, tenant); err != nil {
				return err
			}
			var o, n []string
			var k int
			if err := tx.QueryRow(ctx, `SELECT array_agg(tenant_id || ':' || journal_id || '=' || next_offset ORDER BY 1),
				(SELECT array_agg(tenant_id || ':' || name ORDER BY 1) FROM journal_symbols),
				(SELECT count(*) FROM raw_market_ticks WHERE symbol = 'SECRET') FROM shipper_offsets`).Scan(&o, &n, &k); err != nil {
				return err
			}
			offs, names, secret = append(offs, o...), append(names, n...), secret+k
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(offs)
	want := fmt.Sprintf("[ta:shared#ticks=%d ta:shared=%d tb:shared#ticks=5 tb:shared=5]", g.n, g.n)
	if fmt.Sprint(offs) != want || fmt.Sprint(names) != "[ta:ESZ6 ta:NQZ6 tb:SECRET]" || secret != 0 {
		t.Errorf("offsets %v, want %s; symbols %v; %d ticks named after tb's symbol", offs, want, names, secret)
	}

	if err := CheckTenant(ctx, w, "tb"); !errors.Is(err, ErrWrongTenant) {
		t.Errorf("CheckTenant(writer of ta, tb) = %v, want ErrWrongTenant", err)
	}
	s, err := NewShipper(w, ShipperOptions{Dir: g.dir, Tenant: "tb", JournalID: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.load(ctx); !errors.Is(err, ErrWrongTenant) {
		t.Errorf("a shipper of tb on ta's writer: %v, want ErrWrongTenant", err)
	}
	for _, q := range []string{"DELETE FROM feature_windows", "TRUNCATE decision_traces", "DELETE FROM shipper_offsets",
		"ALTER TABLE feature_windows DISABLE ROW LEVEL SECURITY", "DROP POLICY tenant_isolation ON outbox",
		"ALTER TABLE outbox NO FORCE ROW LEVEL SECURITY", "UPDATE tenant_roles SET tenant_id = 'tb'", "CREATE TABLE public.mine (x int)",
		"SELECT drop_partitions_before('feature_windows', now() + interval '10 years')"} {
		if _, err := w.Exec(ctx, q); err == nil {
			t.Errorf("the writer may %q", q)
		}
	}
	// BYPASSRLS lifts the policies from the writer's reads too, so its
	// group (thunderline_writers, 0008) may read none of what it ships:
	// only ids, tenants and status where the fills look.
	for _, q := range []string{"SELECT features FROM feature_windows", "SELECT labels FROM feature_windows", "SELECT * FROM decision_traces",
		"SELECT actions FROM decision_traces", "SELECT * FROM window_labels", "SELECT * FROM lineage_edges", "SELECT * FROM raw_market_ticks",
		"SELECT payload FROM outbox", "SELECT * FROM rejects", "SELECT * FROM raw_edgar_docs", "SELECT * FROM experts",
		"SELECT * FROM federations", "SELECT uri FROM tick_files", "SELECT * FROM tenant_roles", "SELECT * FROM model_artifacts"} {
		if _, err := w.Exec(ctx, q); !isCode(err, "42501") { // insufficient_privilege
			t.Errorf("the writer reads %q: %v, want permission denied", q, err)
		}
	}
	if seen := visible(t, rolePool(t, dsn, roleB)); strings.Contains(fmt.Sprint(seen), "ta=") {
		t.Errorf("tenant tb's login sees ta's rows: %v", seen)
	}
}
