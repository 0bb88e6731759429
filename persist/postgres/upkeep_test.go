package postgres

import (
	"context"
	"testing"
	"time"
)

// TestDropRawTicksBefore: raw tick partitions older than the cutoff are
// dropped by partition; feature windows are kept.
func TestDropRawTicksBefore(t *testing.T) {
	ctx := context.Background()
	pool, _ := migratedPool(t)
	// Partitions for two old months, and one after the cutoff.
	for _, month := range []string{"2024-01-01", "2024-02-01", "2024-03-01"} {
		if _, err := pool.Exec(ctx, `CREATE TABLE raw_market_ticks_y`+month[:4]+`m`+month[5:7]+` PARTITION OF raw_market_ticks
			FOR VALUES FROM ('`+month+`') TO ('`+month+`'::date + interval '1 month')`); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const ticks = `SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_market_ticks'::regclass`
	const windows = `SELECT count(*) FROM pg_inherits WHERE inhparent = 'feature_windows'::regclass`
	before, windowsBefore := count(ticks), count(windows)
	n, err := DropRawTicksBefore(ctx, pool, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if after := count(ticks); n != 2 || after != before-2 {
		t.Fatalf("dropped %d partitions, %d → %d", n, before, after)
	}
	if count(`SELECT count(*) FROM pg_class WHERE relname = 'raw_market_ticks_y2024m03'`) != 1 {
		t.Fatal("the month after the cutoff was dropped")
	}
	if w := count(windows); w != windowsBefore {
		t.Fatalf("feature_windows partitions %d → %d: retention must keep features", windowsBefore, w)
	}
	if n, err := DropRawTicksBefore(ctx, pool, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)); n != 0 || err != nil {
		t.Fatalf("again: dropped %d, %v", n, err)
	}
}
