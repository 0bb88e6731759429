package engine

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/persist/postgres/pgtest"
)

// TestRetentionDropsOldRawTicks: raw tick partitions older than the
// retention age are dropped by partition; feature windows are kept.
func TestRetentionDropsOldRawTicks(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	if _, err := Migrate(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Partitions for two old months, and one in the future ahead of now.
	for _, month := range []string{"2024-01-01", "2024-02-01"} {
		if _, err := pool.Exec(ctx, `CREATE TABLE raw_market_ticks_y`+month[:4]+`m`+month[5:7]+` PARTITION OF raw_market_ticks
			FOR VALUES FROM ('`+month+`') TO ('`+month+`'::date + interval '1 month')`); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) int {
		var n int
		if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count(`SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_market_ticks'::regclass`)
	windowsBefore := count(`SELECT count(*) FROM pg_inherits WHERE inhparent = 'feature_windows'::regclass`)
	n, err := DropRawTicksBefore(ctx, pool, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	after := count(`SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw_market_ticks'::regclass`)
	if n != 2 || after != before-2 {
		t.Fatalf("dropped %d partitions, %d → %d", n, before, after)
	}
	if w := count(`SELECT count(*) FROM pg_inherits WHERE inhparent = 'feature_windows'::regclass`); w != windowsBefore {
		t.Fatalf("feature_windows partitions %d → %d: retention must keep features", windowsBefore, w)
	}
}
