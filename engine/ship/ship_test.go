package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/engine/config"
	"thunderline/engine/runjournal"
	"thunderline/persist/journal"
	"thunderline/persist/postgres"
	"thunderline/persist/postgres/pgtest"
)

func asUser(t *testing.T, dsn, user string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(user)
	return u.String()
}

// TestPostgresTenantRole: the engine connects as a tenant's login role; a
// profile naming another tenant, an unbound engine role and a raw tick
// retention on a tenant role are refused at connect, and the bound tenant
// ships its journal.
func TestPostgresTenantRole(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t) // the migration role's
	if applied, err := Migrate(ctx, dsn); err != nil || len(applied) == 0 {
		t.Fatalf("Migrate: %v, %v", applied, err)
	}
	owner, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	bound := fmt.Sprintf("tl_ship_%d_a", os.Getpid())
	unbound := fmt.Sprintf("tl_ship_%d_n", os.Getpid())
	for _, q := range []string{"CREATE ROLE " + bound + " LOGIN IN ROLE thunderline_engine",
		"CREATE ROLE " + unbound + " LOGIN IN ROLE thunderline_engine",
		"INSERT INTO tenant_roles (role_name, tenant_id) VALUES ('" + bound + "', 'ta')"} {
		if _, err := owner.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		defer owner.Close()
		for _, r := range []string{bound, unbound} {
			if _, err := owner.Exec(ctx, "DROP ROLE "+r); err != nil {
				t.Errorf("drop role %s: %v", r, err)
			}
		}
	})

	dir := filepath.Join(t.TempDir(), "journal")
	jour, err := journal.Open(journal.Options{Dir: dir, Fsync: journal.FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	const records = 5
	for i := range records {
		if _, err := jour.Append(200, fmt.Appendf(nil, "record %d", i)); err != nil { // unknown kind: a rejects row each
			t.Fatal(err)
		}
	}
	if err := jour.Close(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dsnA, dsnN := asUser(t, dsn, bound), asUser(t, dsn, unbound)

	if _, err := Backfill(ctx, dsnA, dir, "tb", config.PostgresArchive{}, log); !errors.Is(err, postgres.ErrWrongTenant) {
		t.Errorf("Backfill of tb as ta's role: %v, want ErrWrongTenant", err)
	}
	if _, err := Start(ctx, dsnA, &config.Profile{Tenant: "tb"}, dir, jour, log); !errors.Is(err, postgres.ErrWrongTenant) {
		t.Errorf("Start of tb as ta's role: %v, want ErrWrongTenant", err)
	}
	if _, err := Start(ctx, dsnA, &config.Profile{}, dir, jour, log); !errors.Is(err, postgres.ErrWrongTenant) {
		t.Errorf("Start of the default tenant as ta's role: %v, want ErrWrongTenant", err)
	}
	if _, err := Backfill(ctx, dsnN, dir, "ta", config.PostgresArchive{}, log); !errors.Is(err, postgres.ErrUnboundRole) {
		t.Errorf("Backfill as an unbound engine role: %v, want ErrUnboundRole", err)
	}
	prof := &config.Profile{Tenant: "ta"}
	prof.Postgres.RawTicksRetention = config.Duration(time.Hour)
	if _, err := Start(ctx, dsnA, prof, dir, jour, log); !errors.Is(err, postgres.ErrRetentionRole) {
		t.Errorf("Start with raw_ticks_retention as a tenant role: %v, want ErrRetentionRole", err)
	}
	sum, err := Backfill(ctx, dsnA, dir, "ta", config.PostgresArchive{}, log)
	if err != nil || sum.Rows != records || sum.Rejects != records || !sum.CaughtUp {
		t.Fatalf("Backfill of ta as its role: %+v, %v", sum, err)
	}
	// Caught up: the shipper's hold on the journal is released (retention
	// may delete it now); before, refused logins left it held.
	if holds, err := runjournal.Holds(dir); err != nil || len(holds) != 0 {
		t.Fatalf("holds after shipping it all: %v, %v", holds, err)
	}
	// The migration role (unbound, trusted) still ships any tenant, with
	// retention: the single-tenant default.
	prof.Tenant = "tc"
	sh, err := Start(ctx, dsn, prof, dir, jour, log)
	if err != nil {
		t.Fatalf("Start as the migration role: %v", err)
	}
	if sum := sh.Finish(records, time.Minute, nil); sum.Rows != records || !sum.CaughtUp {
		t.Errorf("migration role shipped %+v", sum)
	}
}
