package postgres

import (
	"context"
	"testing"
	"time"
)

func TestAckTimes(t *testing.T) {
	var a ackTimes
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	if got := a.before(0); !got.IsZero() {
		t.Fatalf("no facts: before(0) = %v", got)
	}
	// The limit is 10 at 0 ms and 5 ms, 20 at 6 ms, 30 at 6.5 ms, 40 at
	// 9 ms: facts (10, 5 ms) and (30, 6.5 ms) are kept ((20, 6 ms) would
	// be stored within a millisecond of the one before).
	a.observe(10, at(0))
	a.observe(10, at(5))
	a.observe(20, at(6))
	a.observe(30, at(6).Add(500*time.Microsecond))
	a.observe(40, at(9))
	f := func(off uint64, want time.Time) {
		t.Helper()
		if got := a.before(off); !got.Equal(want) {
			t.Errorf("before(%d) = %v, want %v", off, got, want)
		}
	}
	f(5, time.Time{}) // acknowledged before every fact kept: unknown
	f(10, at(5))      // not acknowledged at 5 ms (limit 10)
	f(19, at(5))
	f(20, at(5)) // the fact (20, 6 ms) came within a millisecond of the next: not kept
	f(35, at(6).Add(500*time.Microsecond))
	f(1000, at(6).Add(500*time.Microsecond))
}

// TestCommitLagFromAppend: the commit lag counts from a record's append to
// the journal, not from its read. With feature_windows locked for a while
// after the whole journal is appended, every decision batch waits behind
// the lock — also those the shipper reads only once the lock goes — so
// the median lag is at least most of the lock's time.
func TestCommitLagFromAppend(t *testing.T) {
	pool, _ := migratedPool(t)
	ctx := context.Background()
	g := newGenJournal(t, "lag")
	lock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback(ctx) //nolint:errcheck
	if _, err := lock.Exec(ctx, "LOCK TABLE feature_windows IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	s, stop := runShipper(t, pool, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: "run-lag", Lane: LaneDecisions,
		BatchSize: 100, MaxDelay: 5 * time.Millisecond, Poll: time.Millisecond, Acked: g.j.Acked})
	g.flush() // the run's first records (no window): shipped, so the shipper watches the journal from here
	waitShipped(t, s, g.n, 20*time.Second)
	g.windows(300)
	g.end()
	hold := 600 * time.Millisecond
	time.Sleep(hold)   // the lock's duration is what is measured, not a wait for an event
	lock.Rollback(ctx) //nolint:errcheck
	waitShipped(t, s, g.n, 20*time.Second)
	stop()
	st := s.Stats()
	// Every record was appended before the sleep, every batch holds
	// windows and commits after the lock goes: each lag is at least hold.
	if st.Batches < 10 || st.CommitLagP50 < hold || st.CommitLagMax < st.CommitLagP50 {
		t.Fatalf("%d batches, commit lag p50 %v max %v after a %v lock on a journal appended before it", st.Batches,
			st.CommitLagP50, st.CommitLagMax, hold)
	}
}
