package postgres

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/persist/postgres/pgtest"
)

// testDSN is the server the tests use: THUNDERLINE_TEST_PG_DSN, or a
// throwaway cluster TestMain starts with testdata/pg-start.sh (in
// testPGDir, stopped and deleted at the end). The DSN's role needs
// CREATEDB: every test gets its own database.
var (
	testDSN   string
	testPGDir string // "" when the server is not ours
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	testDSN = os.Getenv("THUNDERLINE_TEST_PG_DSN")
	if testDSN == "" {
		dir, err := pgtest.NewDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		testPGDir = dir
		defer pgtest.Script(dir, "pg-stop.sh", "--purge")
		out, err := pgtest.Script(dir, "pg-start.sh")
		if err != nil {
			fmt.Fprintf(os.Stderr, "pg-start.sh: %v\n%s", err, out)
			return 1
		}
		testDSN = out
	}
	return m.Run()
}

// testDB creates an empty database for the test and returns its DSN.
func testDB(t testing.TB) string { t.Helper(); return testDBOn(t, testDSN) }

// testDBOn creates an empty database on the server of serverDSN, dropped
// when the test ends.
func testDBOn(t testing.TB, serverDSN string) string {
	t.Helper()
	dsn := pgtest.NewDB(t, serverDSN)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgxpool.New(ctx, serverDSN)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer admin.Close()
		// A closed pool's backends of another role (thunderline_system)
		// may still be exiting, and FORCE may not terminate them: retry.
		for {
			_, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			if err == nil {
				return
			}
			if ctx.Err() != nil {
				t.Errorf("drop database %s: %v", name, err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	return dsn
}

// asUser returns dsn with another role.
func asUser(t testing.TB, dsn, user string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}

// migratedPool returns a pool on a fresh, migrated database.
func migratedPool(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	return migratedPoolOn(t, testDSN)
}

// migratedPoolOn returns a pool on a fresh, migrated database of serverDSN.
func migratedPoolOn(t testing.TB, serverDSN string) (*pgxpool.Pool, string) {
	t.Helper()
	dsn := testDBOn(t, serverDSN)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool, dsn
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
