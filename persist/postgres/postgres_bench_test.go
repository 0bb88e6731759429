package postgres

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"thunderline/persist/journal"
)

// BenchmarkShipperVsCopy ships a journal of 1000 windows (10,202 records,
// one row each) per iteration and, in the same iteration, CopyFroms the
// same decoded rows straight into twins of the tables in one transaction (no
// staging, no RLS, no conflict handling, no offset, no journal reading or
// decoding): the floor the shipper is measured against. Metrics:
// ship_rows/s, copy_rows/s and ship/copy (the ratio).
//
// THUNDERLINE_BENCH_BATCH sets the shipper's batch size (default 4096).
// Sub-benchmarks: staging (the shipper logged in as the migration role,
// under row-level security: COPY into temporary tables, then INSERT …
// ON CONFLICT) and writer (logged in as a BYPASSRLS writer role bound to
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
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		g := newGenJournal(b, fmt.Sprintf("bench-ship-%d", i))
		g.windows(1000)
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
		t0 := time.Now()
		s, stop := runShipperWith(b, shipPool, ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: fmt.Sprintf("ship-%d", i),
			Poll: time.Millisecond, MaxDelay: 20 * time.Millisecond, BatchSize: shipBenchBatch}, func(s *Shipper) { s.testUnnest = unnest })
		waitShipped(b, s, g.n, time.Minute)
		shipDur += time.Since(t0)
		stop()
		if st := s.Stats(); st.Rows != g.n {
			b.Fatalf("shipped %d rows of %d", st.Rows, g.n)
		}
		rows += g.n

		t0 = time.Now()
		err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
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
		copyDur += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
	}
	ship := float64(rows) / shipDur.Seconds()
	cp := float64(rows) / copyDur.Seconds()
	b.ReportMetric(ship, "ship_rows/s")
	b.ReportMetric(cp, "copy_rows/s")
	b.ReportMetric(ship/cp, "ship/copy")
}

var shipBenchBatch, _ = strconv.Atoi(os.Getenv("THUNDERLINE_BENCH_BATCH"))
