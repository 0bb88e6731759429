package postgres

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
	"thunderline/persist/postgres/pgtest"
)

// genJournal writes a run's journal the way the engine does (record kinds
// of engine/runjournal, payloads of the hotpath encoders) and counts the
// rows each table should get.
type genJournal struct {
	t      testing.TB
	j      *journal.Journal
	dir    string
	tenant string
	want   map[string]int // table → rows
	filled int            // windows with a valid label
	bad    []uint64       // offsets of records the shipper must reject
	n      uint64
	w      int // windows so far
	buf    []byte
}

func newGenJournal(t testing.TB, tenant string) *genJournal {
	dir := filepath.Join(t.TempDir(), "journal")
	j, err := journal.Open(journal.Options{Dir: dir, Fsync: journal.FsyncNever, BlockBytes: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	g := &genJournal{t: t, j: j, dir: dir, tenant: tenant, want: map[string]int{}}
	g.add(recMeta, "outbox", []byte("tenant: "+tenant+"\n"))
	for id, name := range []string{"ESZ6", "NQZ6"} {
		g.add(recSymbol, "journal_symbols", append(binary.LittleEndian.AppendUint32(nil, uint32(id)), name...))
	}
	return g
}

func (g *genJournal) add(kind uint8, table string, payload []byte) uint64 {
	g.t.Helper()
	off, err := g.j.Append(kind, payload)
	if err != nil {
		g.t.Fatal(err)
	}
	if uint64(off) != g.n {
		g.t.Fatalf("append at %d, want %d", off, g.n)
	}
	g.n++
	if table != "" {
		g.want[table]++
	}
	return uint64(off)
}

// windows appends n windows, each with 4 ticks, a reject every 5th, the
// window, its label, a trace and 2 lineage edges (10 or 11 records).
func (g *genJournal) windows(n int) {
	base := time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC).UnixNano()
	for range n {
		i := g.w
		g.w++
		sym := uint32(i % 2)
		key := []string{"ESZ6", "NQZ6"}[sym]
		start := base + int64(i)*int64(250*time.Millisecond)
		for k := range 4 {
			tk := record.MarketTick{TsEvent: start + int64(k)*1000, TsRecv: start + int64(k)*1000 + 7, Seq: uint64(4*i + k),
				InSeq: uint64(4*i + k), BidPx: 5_000_000_000_000, AskPx: 5_000_250_000_000, BidQty: 3, AskQty: 4,
				Symbol: sym, Kind: record.KindQuote}
			g.buf = record.AppendTick(g.buf[:0], &tk)
			g.add(recTick, "raw_market_ticks", g.buf)
		}
		if i%5 == 0 {
			r := record.Reject{Tick: record.MarketTick{TsEvent: start, Symbol: sym, Kind: record.KindQuote, BidPx: 2, AskPx: 1},
				Reason: record.ReasonCrossed}
			g.buf = record.AppendReject(g.buf[:0], &r)
			g.add(recReject, "rejects", g.buf)
		}
		w := window.FeatureWindow{Start: start, End: start + int64(250*time.Millisecond), Kind: window.KindMarket,
			Recipe: window.RecipeFull, SchemaVersion: window.RecipeFull.SchemaVersion(), Status: window.StatusOpen,
			Label:      window.LabelSpec{Horizon: int64(500 * time.Millisecond), Type: window.LabelDelta},
			FirstInSeq: uint64(4 * i), LastInSeq: uint64(4*i + 3), Ticks: 4, Symbol: sym}
		for f := range w.Features {
			w.Features[f] = float64(i) + float64(f)/10
		}
		w.ID = window.WindowID(g.tenant, w.Kind, key, w.Start, w.End, w.Recipe)
		g.buf = window.AppendWindowRecord(g.buf[:0], &w, g.tenant, key)
		g.add(recWindow, "feature_windows", g.buf)
		l := window.LabelFill{WindowID: w.ID, End: w.End, Label: w.Label, MidEnd: 5000.125, MidTarget: 5000.5,
			Value: 0.375, Symbol: sym, Valid: i%7 != 3}
		if l.Valid {
			g.filled++
		}
		g.buf = window.AppendLabel(g.buf[:0], &l, key)
		g.add(recLabel, "window_labels", g.buf)
		tr := decide.DecisionTrace{WindowID: w.ID, RouterVersion: 1, Symbol: sym, End: w.End, Layers: 1, NGates: 4,
			Gates: [decide.MaxGates]float32{0.5, 0.25, 0.125, 0.125}, Proposed: decide.ActionBuy, Action: decide.ActionBuy,
			Scores: [3]float32{0.7, 0.2, 0.1}, Confidence: 0.7, Position: int64(i), Mid: 5000.125, PnL: -1.5,
			RiskFlags: uint32(i % 3), LatencyNs: 12345, Batch: 8}
		tr.NSel[0] = 2
		tr.Actions[0][0] = decide.ExpertAction{Expert: 0, Gate: 0.5, Scores: [3]float32{0.8, 0.1, 0.1}, Confidence: 0.8, LatencyNs: 900}
		tr.Actions[0][1] = decide.ExpertAction{Expert: 1, Gate: 0.25, Abstain: true, LatencyNs: 1100}
		copy(tr.WindowHash[:], w.Hash[:])
		tr.ID = decide.TraceID(w.ID, tr.RouterVersion)
		g.buf = decide.AppendTraceRecord(g.buf[:0], &tr, g.tenant, key)
		g.add(recTrace, "decision_traces", g.buf)
		for _, e := range []decide.Edge{{From: w.ID, To: tr.ID, Type: decide.EdgeWindowTrace, At: w.End},
			{From: tr.ID, To: decide.ExpertID(0, "momentum"), Type: decide.EdgeTraceExpert, At: w.End}} {
			g.buf = decide.AppendEdge(g.buf[:0], &e)
			g.add(recEdge, "lineage_edges", g.buf)
		}
	}
	g.flush()
}

// malformed appends records no decoder accepts.
func (g *genJournal) malformed() {
	for _, r := range []struct {
		kind    uint8
		payload string
	}{{recWindow, "TLFW\x01garbage"}, {recTick, "short"}, {200, "unknown kind"}, {recTrace, ""},
		{recSymbol, "\x05\x00\x00\x00\xffbad\x00"}} {
		g.bad = append(g.bad, g.add(r.kind, "rejects", []byte(r.payload)))
	}
	g.flush()
}

func (g *genJournal) end() {
	g.add(recEnd, "outbox", []byte(`{"windows":1}`))
	g.flush()
}

func (g *genJournal) flush() {
	if err := g.j.Flush(); err != nil {
		g.t.Fatal(err)
	}
}

// runShipper runs a Shipper until the returned stop is called.
func runShipper(t testing.TB, pool *pgxpool.Pool, opts ShipperOptions) (*Shipper, func()) {
	t.Helper()
	return runShipperWith(t, pool, opts, nil)
}

// runShipperWith is runShipper with set (when not nil) called on the
// Shipper before it runs.
func runShipperWith(t testing.TB, pool *pgxpool.Pool, opts ShipperOptions, set func(*Shipper)) (*Shipper, func()) {
	t.Helper()
	s, err := NewShipper(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		set(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return s, stop
}

// checkShipped asserts the database holds exactly the journal's rows: per
// table the expected count, one row per journal record, none twice.
func checkShipped(t testing.TB, pool *pgxpool.Pool, g *genJournal, jid string) {
	t.Helper()
	ctx := context.Background()
	total := 0
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, g.tenant); err != nil {
			return err
		}
		for _, table := range []string{"raw_market_ticks", "feature_windows", "window_labels", "decision_traces",
			"lineage_edges", "rejects", "outbox", "journal_symbols"} {
			var n, distinct int
			q := "SELECT count(*), count(DISTINCT journal_offset) FROM " + table + " WHERE journal_id = $1"
			if table == "journal_symbols" {
				q = "SELECT count(*), count(DISTINCT symbol_id) FROM journal_symbols WHERE journal_id = $1"
			}
			if err := tx.QueryRow(ctx, q, jid).Scan(&n, &distinct); err != nil {
				return err
			}
			if n != g.want[table] || distinct != n {
				t.Errorf("%s: %d rows (%d distinct offsets), want %d", table, n, distinct, g.want[table])
			}
			total += n
		}
		var filled int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM feature_windows WHERE status = 'filled' AND labels IS NOT NULL").Scan(&filled); err != nil {
			return err
		}
		if filled != g.filled {
			t.Errorf("%d filled windows, want %d", filled, g.filled)
		}
		var off int64
		if err := tx.QueryRow(ctx, "SELECT next_offset FROM shipper_offsets WHERE journal_id = $1", jid).Scan(&off); err != nil {
			return err
		}
		if uint64(off) != g.n {
			t.Errorf("stored offset %d, want %d", off, g.n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(total) != g.n {
		t.Errorf("%d rows for %d journal records", total, g.n)
	}
}

func waitShipped(t testing.TB, s *Shipper, n uint64, d time.Duration) {
	t.Helper()
	waitFor(t, d, "the shipper to reach the journal's end", func() bool { return s.Stats().NextOffset == n })
}

func TestShipJournal(t *testing.T) {
	pool, _ := migratedPool(t)
	g := newGenJournal(t, "acme")
	g.windows(300)
	g.malformed()
	g.windows(20)
	g.end()
	jid := "run-ship"
	s, stop := runShipper(t, pool, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: jid, BatchSize: 500,
		MaxDelay: 10 * time.Millisecond, Poll: time.Millisecond})
	waitShipped(t, s, g.n, 20*time.Second)
	stop()
	checkShipped(t, pool, g, jid)
	st := s.Stats()
	if st.Lag != 0 || st.Records != g.n || st.Rows != g.n || st.Rejects != uint64(len(g.bad)) || st.Batches < g.n/500 || st.Errors != 0 {
		t.Errorf("stats %+v after %d records (%d bad)", st, g.n, len(g.bad))
	}
	var batches uint64
	for i, n := range st.BatchSizes {
		batches += n
		if i == len(BatchSizeBounds) && n != 0 {
			t.Errorf("%d batches over %d records with BatchSize 500", n, BatchSizeBounds[i-1])
		}
	}
	if batches != st.Batches || st.LagSeconds != 0 {
		t.Errorf("batch sizes %v for %d batches of %d records, lag %.3fs caught up",
			st.BatchSizes, st.Batches, st.Records, st.LagSeconds)
	}

	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		WithTenant(ctx, tx, g.tenant)
		rows, err := tx.Query(ctx, "SELECT journal_offset FROM rejects WHERE source = 'shipper' ORDER BY 1")
		if err != nil {
			return err
		}
		offs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if len(offs) != len(g.bad) {
			t.Errorf("shipper rejects at %v, want %v", offs, g.bad)
		}
		for i := range min(len(offs), len(g.bad)) {
			if uint64(offs[i]) != g.bad[i] {
				t.Errorf("shipper rejects at %v, want %v", offs, g.bad)
			}
		}
		// A window reads back with its values.
		var key, status string
		var mid float64
		var feat float64
		if err := tx.QueryRow(ctx, `SELECT w.key, w.status, (w.features->>'mid')::float8, (t.pnl_snapshot->>'mid')::float8
			FROM feature_windows w JOIN decision_traces t ON t.feature_window_id = w.id
			WHERE w.start_ns = $1`, time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC).UnixNano()+int64(250*time.Millisecond)).Scan(&key, &status, &feat, &mid); err != nil {
			return err
		}
		if key != "NQZ6" || status != "filled" || mid != 5000.125 {
			t.Errorf("window 1: key %s status %s trace mid %v", key, status, mid)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A second shipper of the same journal finds nothing left to do.
	s2, stop2 := runShipper(t, pool, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: jid, Poll: time.Millisecond})
	waitFor(t, 5*time.Second, "the second shipper to load its offset", func() bool { return s2.Stats().NextOffset == g.n })
	stop2()
	if st := s2.Stats(); st.Rows != 0 || st.Batches != 0 {
		t.Errorf("second shipper wrote: %+v", st)
	}
	checkShipped(t, pool, g, jid)
}

// TestShipperKilled cancels shippers at random points (mid-batch included),
// terminates a shipper's server backend between its COPY and its commit,
// and starts fresh shippers: every row lands exactly once. Both paths: the
// staging one (the migration role, under row-level security) and the
// writer's (rows COPYed straight into the tables: a kill between the COPY
// and the commit must leave none of them).
func TestShipperKilled(t *testing.T) {
	for _, writer := range []bool{false, true} {
		name := map[bool]string{false: "staging", true: "writer"}[writer]
		t.Run(name, func(t *testing.T) { shipperKilled(t, writer) })
	}
}

func shipperKilled(t *testing.T, writer bool) {
	owner, dsn := migratedPool(t)
	pool := owner
	if writer {
		pool = writerPool(t, owner, dsn, "kill")
	}
	g := newGenJournal(t, "kill")
	g.windows(2500)
	g.end()
	jid := "run-kill"
	opts := ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: jid, BatchSize: 300, MaxDelay: 5 * time.Millisecond, Poll: time.Millisecond}
	// stored is what the database holds: the journal's rows and offset.
	stored := func() (rows int, off int64) {
		t.Helper()
		err := pgx.BeginFunc(context.Background(), owner, func(tx pgx.Tx) error {
			WithTenant(context.Background(), tx, g.tenant)
			if err := tx.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM raw_market_ticks) + (SELECT count(*) FROM feature_windows)
				+ (SELECT count(*) FROM window_labels) + (SELECT count(*) FROM decision_traces) + (SELECT count(*) FROM lineage_edges)
				+ (SELECT count(*) FROM rejects) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM journal_symbols)`).Scan(&rows); err != nil {
				return err
			}
			return tx.QueryRow(context.Background(), "SELECT next_offset FROM shipper_offsets WHERE journal_id = $1", jid).Scan(&off)
		})
		if err != nil {
			t.Fatal(err)
		}
		return rows, off
	}

	// First a kill inside a batch for sure: ctx is cancelled inside the
	// third batch's transaction, after its rows are copied (to staging, or
	// into the tables) and before its inserts, the offset update and the
	// commit.
	{
		s, err := NewShipper(pool, opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var calls atomic.Int32
		s.testHookBeforeOffset = func() {
			if calls.Add(1) == 3 {
				cancel()
			}
		}
		if err := s.Run(ctx); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		rows, off := stored()
		// One row a record in this journal: the two committed batches'.
		if st.Batches != 2 || uint64(off) != st.NextOffset || uint64(rows) != st.NextOffset || st.Rows != st.NextOffset {
			t.Fatalf("after a kill in batch 3: %d rows, offset %d stored; stats %+v", rows, off, st)
		}
		if writer && !s.direct {
			t.Fatal("the writer login did not take the writer path")
		}
	}
	// Then the server side of a crash: the shipper's backend is terminated
	// inside a batch's transaction, after the COPY, before the commit. The
	// batch fails, is retried from the stored offset, and lands once.
	{
		s, err := NewShipper(pool, opts)
		if err != nil {
			t.Fatal(err)
		}
		var calls atomic.Int32
		s.testHookBeforeOffset = func() {
			if calls.Add(1) != 2 {
				return
			}
			var n int
			// As the shipper's own role: only it sees and may end its backends.
			if err := pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`).Scan(&n); err != nil || n != 1 {
				t.Errorf("terminated %d backends in a transaction (%v), want the shipper's", n, err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		waitFor(t, 20*time.Second, "the batch after the terminated one", func() bool { st := s.Stats(); return st.Errors >= 1 && st.Batches >= 3 })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if rows, off := stored(); uint64(rows) != uint64(off) || s.Stats().NextOffset > uint64(off) {
			t.Fatalf("after a terminated backend: %d rows for %d records shipped (stats %+v)", rows, off, s.Stats())
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 2
	for round := 0; round < 8; round++ {
		s, stop := runShipper(t, pool, opts)
		target := uint64(1 + rng.IntN(3))
		waitFor(t, 20*time.Second, "a batch", func() bool { st := s.Stats(); return st.Batches >= target || st.NextOffset == g.n })
		// Cancel somewhere inside the next batch: after 0 to 3 ms of it.
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		stop()
		kills++
		if rows, off := stored(); uint64(rows) != uint64(off) {
			t.Fatalf("after kill %d: %d rows for %d records shipped", kills, rows, off)
		}
		if s.Stats().NextOffset == g.n {
			break
		}
	}
	s, stop := runShipper(t, pool, opts)
	waitShipped(t, s, g.n, 30*time.Second)
	stop()
	checkShipped(t, owner, g, jid)
	t.Logf("%d kills, %d records", kills, g.n)
}

// TestPostgresOutage stops the server while the engine keeps appending, then
// starts it again: the shipper retries, catches up, loses and repeats
// nothing.
func TestPostgresOutage(t *testing.T) {
	dir, serverDSN := testPGDir, testDSN
	if dir == "" { // an outside server we may not stop: run our own beside it
		c := pgtest.Own(t)
		dir, serverDSN = c.Dir, c.Server
	}
	t.Cleanup(func() { // never leave the shared server down
		if out, err := pgtest.Script(dir, "pg-start.sh"); err != nil {
			t.Errorf("pg-start.sh: %v\n%s", err, out)
		}
	})
	pool, _ := migratedPoolOn(t, serverDSN)
	g := newGenJournal(t, "outage")
	g.windows(200)
	jid := "run-outage"
	s, stop := runShipper(t, pool, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: jid, BatchSize: 200,
		MaxDelay: 5 * time.Millisecond, Poll: time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Acked: g.j.Acked})
	waitShipped(t, s, g.n, 20*time.Second)

	if out, err := pgtest.Script(dir, "pg-stop.sh"); err != nil {
		t.Fatalf("pg-stop.sh: %v\n%s", err, out)
	}
	// The engine keeps appending while Postgres is down; the journal never
	// waits for the shipper.
	t0 := time.Now()
	g.windows(300)
	g.end()
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("appending took %v with Postgres down", d)
	}
	errs := s.Stats().Errors
	waitFor(t, 20*time.Second, "the shipper to fail a batch", func() bool { return s.Stats().Errors >= errs+2 })
	if st := s.Stats(); st.LastError == "" || st.Lag == 0 {
		t.Errorf("stats while down: %+v", st)
	}
	if out, err := pgtest.Script(dir, "pg-start.sh"); err != nil {
		t.Fatalf("pg-start.sh: %v\n%s", err, out)
	}
	waitShipped(t, s, g.n, 30*time.Second)
	stop()
	checkShipped(t, pool, g, jid)
	t.Logf("stats: %+v", s.Stats())
}

func openReader(t testing.TB, dir string) *journal.Reader {
	t.Helper()
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestShipperEndGoesAtOnce: the batch holding the journal's end record goes
// to the writer at once — the run is over and nothing will join it — not
// when its batch delay (here an hour) has passed.
func TestShipperEndGoesAtOnce(t *testing.T) {
	pool, _ := migratedPool(t)
	g := newGenJournal(t, "acme")
	g.windows(3) // a few dozen records: no backlog hand-off either
	g.end()
	jid := "run-end"
	s, stop := runShipper(t, pool, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: jid, MaxDelay: time.Hour, Poll: time.Millisecond})
	defer stop()
	waitShipped(t, s, g.n, 30*time.Second)
	if st := s.Stats(); st.Batches != 1 || st.Rows != g.n {
		t.Fatalf("stats %+v: want the journal in one batch", st)
	}
}
