package postgres

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"thunderline/persist/journal"
)

// BenchmarkShipperVsCopy ships a journal of 1000 windows (9,204 records,
// one row each; THUNDERLINE_BENCH_WINDOWS sets another number) per
// iteration and, in the same iteration, CopyFroms the same decoded rows
// straight into twins of the tables in one transaction (no
// staging, no RLS, no conflict handling, no offset, no journal reading or
// decoding): the floor the shipper is measured against. Metrics:
// ship_rows/s, copy_rows/s, ship/copy (the ratio of the totals) and
// ship/copy_median (the median of the iterations' ratios: these machines
// are shared, and one iteration slowed by a neighbour moves it less). The
// two go in alternating order.
//
// THUNDERLINE_BENCH_BATCH sets the shipper's batch size (default 16384).
// Sub-benchmarks: staging (the shipper logged in as the migration role,
// under row-level security: COPY into temporary tables, then INSERT …
// ON CONFLICT), writer (logged in as a BYPASSRLS writer role bound to
// the tenant: binary COPY straight into the tables) and writer-unnest (the
// same login, one INSERT … SELECT FROM unnest(…) per table instead of COPY).
func BenchmarkShipperVsCopy(b *testing.B) {
	b.Run("staging", func(b *testing.B) { shipVsCopy(b, false, false) })
	b.Run("writer", func(b *testing.B) { shipVsCopy(b, true, false) })
	b.Run("writer-unnest", func(b *testing.B) { shipVsCopy(b, true, true) })
}

func shipVsCopy(b *testing.B, writer, unnest bool) {
	b.ReportAllocs()
	pool, dsn := migratedPool(b)
	ctx := context.Background()
	shipPool := pool
	if writer {
		shipPool = writerPool(b, pool, dsn, "bench-ship-0")
	}
	// PostgreSQL refuses COPY FROM into a table under row-level security
	// (SQLSTATE 0A000), the reason the shipper copies into temporary
	// staging tables. The baseline copies into twins of the tables with
	// the same columns, indexes and constraints but no RLS.
	for _, t := range tables {
		if _, err := pool.Exec(ctx, fmt.Sprintf("CREATE TABLE bench_%s (LIKE %s INCLUDING ALL)", t.name, t.name)); err != nil {
			b.Fatal(err)
		}
	}
	var shipDur, copyDur time.Duration
	var rows uint64
	var ratios []float64 // per iteration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		g := newGenJournal(b, fmt.Sprintf("bench-ship-%d", i))
		g.windows(shipBenchWindows)
		g.end()
		// The same rows, decoded up front, retagged for another tenant so
		// they do not collide with the shipped ones.
		copyTenant := fmt.Sprintf("bench-copy-%d", i)
		s0, err := NewShipper(pool, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: "copy"})
		if err != nil {
			b.Fatal(err)
		}
		s0.symbols = map[uint32]string{}
		bt := newBatch(s0, 0)
		r, err := journal.NewReader(g.dir, 0)
		if err != nil {
			b.Fatal(err)
		}
		for {
			kind, off, p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			bt.add(kind, uint64(off), p)
		}
		r.Close()
		for ti := range tables {
			for _, row := range bt.rows[ti] {
				for ci, c := range tables[ti].cols {
					switch c {
					case "tenant_id":
						row[ci] = copyTenant
					case "journal_id":
						row[ci] = fmt.Sprintf("copy-%d", i)
					}
				}
			}
		}
		b.StartTimer()

		if writer {
			if _, err := pool.Exec(ctx, "UPDATE tenant_roles SET tenant_id = $1 WHERE role_name = 'thunderline_writer'", g.tenant); err != nil {
				b.Fatal(err)
			}
		}
		shipOnce := func() time.Duration {
			t0 := time.Now()
			s, stop := runShipperWith(b, shipPool, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: fmt.Sprintf("ship-%d", i),
				Poll: time.Millisecond, MaxDelay: 20 * time.Millisecond, BatchSize: shipBenchBatch}, func(s *Shipper) { s.testUnnest = unnest })
			for deadline := t0.Add(time.Minute); s.Stats().NextOffset != g.n; time.Sleep(100 * time.Microsecond) {
				if time.Now().After(deadline) {
					b.Fatalf("shipped %d records of %d in a minute", s.Stats().NextOffset, g.n)
				}
			}
			d := time.Since(t0)
			if os.Getenv("THUNDERLINE_BENCH_VERBOSE") != "" {
				b.Logf("ship: %d batches", s.Stats().Batches)
			}
			stop()
			if st := s.Stats(); st.Rows != g.n || st.Errors != 0 {
				b.Fatalf("shipped %d rows of %d, %d failed batches (%s)", st.Rows, g.n, st.Errors, st.LastError)
			}
			return d
		}
		copyOnce := func() time.Duration {
			t0 := time.Now()
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if err := WithTenant(ctx, tx, copyTenant); err != nil {
					return err
				}
				for ti := range tables {
					if len(bt.rows[ti]) == 0 {
						continue
					}
					if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_" + tables[ti].name}, tables[ti].cols, pgx.CopyFromRows(bt.rows[ti])); err != nil {
						return fmt.Errorf("copy %s: %w", tables[ti].name, err)
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			return time.Since(t0)
		}
		// Alternate which goes first, so a drift of the machine's load
		// within an iteration does not always favour the same one.
		var ds, dc time.Duration
		if i%2 == 0 {
			ds, dc = shipOnce(), copyOnce()
		} else {
			dc, ds = copyOnce(), shipOnce()
		}
		shipDur += ds
		copyDur += dc
		ratios = append(ratios, dc.Seconds()/ds.Seconds())
		if os.Getenv("THUNDERLINE_BENCH_VERBOSE") != "" {
			b.Logf("iteration %d: ship %v, copy %v", i, ds, dc)
		}
		rows += g.n
	}
	ship := float64(rows) / shipDur.Seconds()
	cp := float64(rows) / copyDur.Seconds()
	b.ReportMetric(ship, "ship_rows/s")
	b.ReportMetric(cp, "copy_rows/s")
	b.ReportMetric(ship/cp, "ship/copy")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "ship/copy_median")
}

var shipBenchBatch, _ = strconv.Atoi(os.Getenv("THUNDERLINE_BENCH_BATCH"))

// shipBenchWindows is THUNDERLINE_BENCH_WINDOWS, the windows of each
// iteration's journal (about 9 records each) [1000].
var shipBenchWindows = func() int {
	if n, err := strconv.Atoi(os.Getenv("THUNDERLINE_BENCH_WINDOWS")); err == nil && n > 0 {
		return n
	}
	return 1000
}()
