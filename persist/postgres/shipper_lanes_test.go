package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestShipLanes: decision data ships on its own cursor. With raw_market_ticks
// locked against writes (a raw tick backlog that cannot move), the
// decision lane still ships every window, label, trace, edge, reject and
// outbox row; the tick lane waits, and once the lock goes it catches up.
// Together they ship every record exactly once, each lane's offset at the
// journal's end.
func TestShipLanes(t *testing.T) {
	pool, _ := migratedPool(t)
	g := newGenJournal(t, "acme")
	g.windows(300)
	g.malformed()
	g.windows(20)
	g.end()
	jid := "run-lanes"
	ctx := context.Background()
	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx) //nolint:errcheck
	if _, err := lock.Exec(ctx, "LOCK TABLE raw_market_ticks IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	opts := ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: jid, BatchSize: 500, MaxDelay: 10 * time.Millisecond, Poll: time.Millisecond}
	opts.Lane = LaneDecisions
	dec, stopDec := runShipper(t, pool, opts)
	opts.Lane = LaneTicks
	ticks, stopTicks := runShipper(t, pool, opts)
	waitShipped(t, dec, g.n, 20*time.Second)
	if n := ticks.Stats().NextOffset; n != 0 {
		t.Fatalf("the tick lane shipped up to %d through a lock", n)
	}
	count := func(table string) (n int) {
		t.Helper()
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := WithTenant(ctx, tx, g.tenant); err != nil {
				return err
			}
			return tx.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE journal_id = $1", jid).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, table := range []string{"feature_windows", "window_labels", "decision_traces", "lineage_edges", "outbox"} {
		if n := count(table); n != g.want[table] {
			t.Errorf("%s: %d rows while ticks wait, want %d", table, n, g.want[table])
		}
	}
	if st := dec.Stats(); st.CommitLagP99 <= 0 || st.CommitLagP99 > 10*time.Second || st.CommitLagMax < st.CommitLagP99 {
		t.Errorf("decision lane commit lag p99 %v max %v", st.CommitLagP99, st.CommitLagMax)
	}
	lock.Rollback(ctx) //nolint:errcheck
	waitShipped(t, ticks, g.n, 20*time.Second)
	stopDec()
	stopTicks()
	checkShipped(t, pool, g, jid)
	var off int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, g.tenant); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT next_offset FROM shipper_offsets WHERE journal_id = $1", jid+"#ticks").Scan(&off)
	})
	if err != nil || uint64(off) != g.n {
		t.Fatalf("tick lane offset %d (%v), want %d", off, err, g.n)
	}
	// The symbols went in with the decision lane (first); the tick lane's
	// rows are the ticks and the reject of its one malformed tick.
	if dr, tr := dec.Stats().Rows, ticks.Stats().Rows; dr+tr != g.n || tr != uint64(g.want["raw_market_ticks"])+1 {
		t.Errorf("rows: decisions %d + ticks %d, want %d in all and %d ticks + 1 reject", dr, tr, g.n, g.want["raw_market_ticks"])
	}
}
