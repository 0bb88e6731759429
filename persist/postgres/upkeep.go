package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DropRawTicksBefore drops the raw_market_ticks partitions wholly older than
// cutoff (SQL function drop_partitions_before, migrations/0003_retention.sql)
// and returns how many; feature windows and decisions are kept. The engine
// runs it hourly beside EnsurePartitions when the profile sets
// postgres.raw_ticks_retention.
func DropRawTicksBefore(ctx context.Context, pool *pgxpool.Pool, cutoff time.Time) (int, error) {
	var n int
	if err := pool.QueryRow(ctx, "SELECT drop_partitions_before('raw_market_ticks', $1)", cutoff).Scan(&n); err != nil {
		return 0, fmt.Errorf("drop_partitions_before(raw_market_ticks, %s): %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}
