package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// tickFile is a valid tick_files row of journal jid.
func tickFile(jid string, first uint64, symbols ...string) TickFile {
	t0 := time.Date(2026, 11, 2, 14, 30, 0, 0, time.UTC).UnixNano()
	f := TickFile{JournalID: jid, FirstOffset: first, LastOffset: first + 99, Symbols: symbols, TsFrom: t0, TsTo: t0 + int64(time.Minute),
		Rows: 100, Bytes: 1234, URI: "file:///archive/sha256/ab/" + jid}
	f.SHA256[0], f.SHA256[1] = byte(first), byte(len(jid))
	return f
}

// insertFile lists f as pool's login, with the shipper's offset moved in
// the same transaction, and returns what InsertTickFile said.
func insertFile(t *testing.T, pool *pgxpool.Pool, f TickFile) (bool, error) {
	t.Helper()
	var inserted bool
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		var err error
		if inserted, err = InsertTickFile(context.Background(), tx, &f); err != nil {
			return err
		}
		_, err = tx.Exec(context.Background(), `INSERT INTO shipper_offsets (journal_id, next_offset) VALUES ($1, $2)
			ON CONFLICT (tenant_id, journal_id) DO UPDATE SET next_offset = excluded.next_offset`, f.JournalID, int64(f.LastOffset+1))
		return err
	})
	return inserted, err
}

// TestTickFilesTenantRoles: tenant A's login role lists its files and finds
// them by symbol and time; it sees none of tenant B's, whatever tenant it
// asks for, and cannot list, change or delete a file as B. A file listed
// in a transaction that rolls back is not listed; a retry lists nothing
// twice; another file for a listed range is refused.
func TestTickFilesTenantRoles(t *testing.T) {
	ctx := context.Background()
	roles := tenantRoles(t, 2)
	owner, dsn := migratedPool(t)
	bind(t, owner, roles[0], "ta")
	bind(t, owner, roles[1], "tb")
	poolA, poolB := rolePool(t, dsn, roles[0]), rolePool(t, dsn, roles[1])

	fa, fb := tickFile("run-a", 10, "ESH4", "NQH4"), tickFile("run-b", 10, "ESH4")
	for _, c := range []struct {
		pool *pgxpool.Pool
		f    TickFile
	}{{poolA, fa}, {poolB, fb}} {
		if ok, err := insertFile(t, c.pool, c.f); err != nil || !ok {
			t.Fatalf("list %s: inserted %t, %v", c.f.JournalID, ok, err)
		}
	}
	from, to := time.Unix(0, fa.TsFrom).Add(10*time.Second), time.Unix(0, fa.TsFrom).Add(20*time.Second)
	find := func(pool *pgxpool.Pool, tenant, symbol string, from, to time.Time) []string {
		t.Helper()
		files, err := FindTickFiles(ctx, pool, tenant, symbol, from, to)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range files {
			got = append(got, f.Tenant+"/"+f.JournalID+"/"+strings.Join(f.Symbols, "+"))
		}
		return got
	}
	for _, c := range []struct {
		name   string
		pool   *pgxpool.Pool
		tenant string
		symbol string
		from   time.Time
		to     time.Time
		want   string
	}{
		{"A its own", poolA, "ta", "ESH4", from, to, "ta/run-a/ESH4+NQH4"},
		{"A asking for B", poolA, "tb", "ESH4", from, to, "ta/run-a/ESH4+NQH4"},
		{"B asking for A", poolB, "ta", "ESH4", from, to, "tb/run-b/ESH4"},
		{"B, a symbol only A has", poolB, "ta", "NQH4", from, to, ""},
		{"A, another symbol", poolA, "ta", "AAPL", from, to, ""},
		{"A, before the file", poolA, "ta", "ESH4", from.Add(-time.Hour), from.Add(-time.Hour + time.Second), ""},
		{"A, after the file", poolA, "ta", "ESH4", to.Add(time.Hour), to.Add(2 * time.Hour), ""},
		{"A, its last nanosecond", poolA, "ta", "NQH4", time.Unix(0, fa.TsTo), time.Unix(0, fa.TsTo), "ta/run-a/ESH4+NQH4"},
		{"the migration role as tb", owner, "tb", "ESH4", from, to, "tb/run-b/ESH4"},
	} {
		if got := strings.Join(find(c.pool, c.tenant, c.symbol, c.from, c.to), ","); got != c.want {
			t.Errorf("%s: found %q, want %q", c.name, got, c.want)
		}
	}

	// As A, each on its own connection: fails, or touches none of B's.
	for _, a := range []struct {
		name, sql string
		rows      bool // may succeed with 0 rows of B's
	}{
		{"read B", "SELECT uri FROM tick_files WHERE tenant_id = 'tb'", true},
		{"list as B", "INSERT INTO tick_files (tenant_id, journal_id, first_offset, last_offset, symbols, ts_from, ts_to, ts_from_ns, ts_to_ns, rows, bytes, sha256, uri) " +
			"VALUES ('tb', 'evil', 0, 1, '{ESH4}', now(), now(), 0, 0, 1, 1, 'x', 'file:///x')", false},
		{"change a file", "UPDATE tick_files SET uri = 'file:///evil'", false},
		{"delete files", "DELETE FROM tick_files", false},
		{"move own file to B", "UPDATE tick_files SET tenant_id = 'tb'", false},
	} {
		var n int
		err := pgx.BeginFunc(ctx, poolA, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, a.sql)
			if err != nil {
				return err
			}
			for rows.Next() {
				n++
			}
			return rows.Err()
		})
		switch {
		case a.rows && (err != nil || n != 0):
			t.Errorf("%s: %d rows (%v), want none", a.name, n, err)
		case !a.rows && err == nil:
			t.Errorf("%s: succeeded", a.name)
		}
	}

	// A retry of the same file lists nothing new; another file for that
	// journal range is a conflict; a rolled back listing is not there.
	if ok, err := insertFile(t, poolA, fa); err != nil || ok {
		t.Fatalf("retry: inserted %t, %v", ok, err)
	}
	other := fa
	other.SHA256[31] = 1
	if _, err := insertFile(t, poolA, other); !errors.Is(err, ErrTickFileConflict) {
		t.Fatalf("another file for a listed range: %v, want ErrTickFileConflict", err)
	}
	rolled := tickFile("run-a", 200, "ESH4")
	errRollback := errors.New("the shipper's batch failed")
	err := pgx.BeginFunc(ctx, poolA, func(tx pgx.Tx) error {
		if _, err := InsertTickFile(ctx, tx, &rolled); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if got := find(poolA, "ta", "ESH4", from, to); len(got) != 1 {
		t.Fatalf("after a rollback A finds %q, want its one file", got)
	}
	bad := fa
	bad.Symbols = []string{"NQH4", "ESH4"}
	if _, err := insertFile(t, poolA, bad); err == nil || !strings.Contains(err.Error(), "TickFile.Symbols") {
		t.Fatalf("unsorted symbols: %v", err)
	}
}
