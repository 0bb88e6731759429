package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrateLock is the advisory lock key that serializes concurrent Migrate
// calls on one database.
const migrateLock = 0x74686c6d // "thlm"

// Migrate applies the embedded migrations (migrations/NNNN_name.sql) not yet
// recorded in schema_migrations, in name order, in one transaction, and
// returns the names it applied. It is idempotent: a second call applies
// nothing and returns an empty list. Concurrent callers serialize on an
// advisory lock. The role that applies them owns every table and function
// (the migration role); an engine role (thunderline_engine) may call Migrate
// on a current schema, which then changes nothing.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (applied []string, err error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrateLock)); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	// The engine's roles may read schema_migrations but create nothing:
	// on a current schema Migrate issues no DDL.
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return nil, fmt.Errorf("migrate: find schema_migrations: %w", err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE TABLE schema_migrations (
		version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return nil, fmt.Errorf("migrate: create schema_migrations (run migrations as the migration role): %w", err)
		}
	}
	done := map[string]bool{}
	rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for _, v := range vs {
		done[v] = true
	}
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql")
		if done[version] {
			continue
		}
		sql, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("migrate: read %s: %w", name, err)
		}
		// No arguments: pgx sends it with the simple protocol, so a file
		// may hold many statements.
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return nil, fmt.Errorf("migrate: apply %s (as the migration role, which owns the tables): %w", version, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", version); err != nil {
			return nil, fmt.Errorf("migrate: record %s: %w", version, err)
		}
		applied = append(applied, version)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("migrate: commit: %w", err)
	}
	return applied, nil
}

// EnsurePartitions creates the monthly partitions of feature_windows and
// raw_market_ticks from this month to monthsAhead (at most 36) months ahead
// and returns how many it created. It calls thunderline_ensure_partitions
// (SECURITY DEFINER), so the engine's roles need no owner rights: the
// partitions belong to the migration role.
func EnsurePartitions(ctx context.Context, pool *pgxpool.Pool, monthsAhead int) (int, error) {
	var n int
	if err := pool.QueryRow(ctx, "SELECT thunderline_ensure_partitions($1)", monthsAhead).Scan(&n); err != nil {
		return 0, fmt.Errorf("ensure_partitions(%d): %w", monthsAhead, err)
	}
	return n, nil
}
