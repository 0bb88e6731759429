package postgres

import (
	"context"
	"errors"
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

// ErrRetentionRole: the login may not drop partitions (drop_partitions_before
// is the migration role's: a month's partition holds every tenant's rows).
var ErrRetentionRole = errors.New("postgres: role may not drop partitions")

// CheckRetention returns nil when pool's login may run DropRawTicksBefore,
// else ErrRetentionRole naming the role.
func CheckRetention(ctx context.Context, pool *pgxpool.Pool) error {
	var role string
	var ok bool
	if err := pool.QueryRow(ctx, "SELECT session_user::text, has_function_privilege('drop_partitions_before(regclass, timestamptz)', 'EXECUTE')").
		Scan(&role, &ok); err != nil {
		return fmt.Errorf("postgres: retention privilege: %w", err)
	}
	if !ok {
		return fmt.Errorf("%w: %q is an engine role; run retention as the migration role", ErrRetentionRole, role)
	}
	return nil
}
