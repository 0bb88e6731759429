package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// writerPool returns a pool logged in as thunderline_writer (BYPASSRLS, made
// by pg-start.sh) bound to tenant in this database.
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
