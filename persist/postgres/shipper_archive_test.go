package postgres

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"thunderline/persist/artifacts"
	"thunderline/persist/tickarchive"
)

// TestShipArchive: with an archive store the tick lane writes each batch's
// raw ticks as one Parquet file and lists it in tick_files, in the offset's
// transaction; no raw_market_ticks rows. The files found by the documented
// query hold exactly the journal's ticks, each once; another tenant finds
// none of them; a second run of the lane lists nothing twice.
func TestShipArchive(t *testing.T) {
	pool, _ := migratedPool(t)
	g := newGenJournal(t, "acme")
	g.windows(300)
	g.malformed()
	g.windows(20)
	g.end()
	store, err := artifacts.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jid := "run-archive"
	opts := ShipperOptions{Dir: g.dir, Tenant: g.tenant, JournalID: jid, BatchSize: 700, MaxDelay: 10 * time.Millisecond,
		Poll: time.Millisecond, Lane: LaneTicks, Archive: store}
	ticks, stop := runShipper(t, pool, opts)
	waitShipped(t, ticks, g.n, 20*time.Second)
	stop()
	st := ticks.Stats()
	wantTicks := g.want["raw_market_ticks"]
	if st.ArchivedTicks != uint64(wantTicks) || st.ArchivedFiles < 2 || st.ArchivedBytes == 0 {
		t.Fatalf("archived %d ticks in %d files (%d bytes), want %d ticks in several files", st.ArchivedTicks, st.ArchivedFiles,
			st.ArchivedBytes, wantTicks)
	}
	ctx := context.Background()
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	seen := map[int64]bool{}
	for _, sym := range []string{"ESZ6", "NQZ6"} {
		files, err := FindTickFiles(ctx, pool, g.tenant, sym, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no files of %s", sym)
		}
		for _, f := range files {
			rc, err := store.Open(ctx, artifacts.Artifact{URI: f.URI, SHA256: f.SHA256, Size: f.Bytes})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			rows, err := tickarchive.ReadBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Tenant != g.tenant || r.BidPx != 5_000_000_000_000 || r.Kind != "quote" {
					t.Fatalf("row %+v", r)
				}
				if r.Symbol == sym {
					if seen[r.JournalOffset] {
						t.Fatalf("tick at %d archived twice", r.JournalOffset)
					}
					seen[r.JournalOffset] = true
				}
			}
		}
	}
	if len(seen) != wantTicks {
		t.Fatalf("%d ticks found through tick_files, journal has %d", len(seen), wantTicks)
	}
	if files, err := FindTickFiles(ctx, pool, "other", "ESZ6", from, to); err != nil || len(files) != 0 {
		t.Fatalf("another tenant found %d files (%v)", len(files), err)
	}
	var rows, listed int
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, g.tenant); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM raw_market_ticks").Scan(&rows); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT coalesce(sum(rows), 0) FROM tick_files WHERE journal_id = $1", jid).Scan(&listed)
	})
	if err != nil || rows != 0 || listed != wantTicks {
		t.Fatalf("%d raw_market_ticks rows, %d ticks listed in tick_files (%v)", rows, listed, err)
	}
	// A second tick lane over the same journal finds it all shipped.
	again, stop2 := runShipper(t, pool, opts)
	waitShipped(t, again, g.n, 10*time.Second)
	stop2()
	if st := again.Stats(); st.ArchivedFiles != 0 {
		t.Fatalf("second lane archived %+v", st)
	}
}
