package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"thunderline/persist/postgres/pgtest"
	"thunderline/persist/tickarchive"
)

// TestTicksFromArchive: a run with postgres.archive leaves its raw ticks as
// Parquet files listed in tick_files (none in raw_market_ticks); `thunderline
// ticks` finds a symbol's ticks of a time range through them — as CSV, and
// as one Parquet file — exactly those the journal holds.
func TestTicksFromArchive(t *testing.T) {
	const sym = "SYN000"
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	prof := filepath.Join(dir, "p.yaml")
	os.WriteFile(prof, []byte(`
tenant: acme
feed: {synthetic: {rate: 50000, symbols: 4, max_ticks: 30000, seed: 5}}
journal: {dir: `+filepath.Join(dir, "j")+`, fsync: never}
admin: {enabled: false}
postgres: {enabled: true, drain: 60s, archive: {dir: `+filepath.Join(dir, "archive")+`, file_records: 4000}}
`), 0o644)
	t.Setenv("THUNDERLINE_PG_DSN", dsn)
	code, out, errOut := cli(t, "run", "--profile", prof, "--json")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, `"caught_up": true`) || !strings.Contains(out, `"archived_ticks": 30000`) {
		t.Fatalf("the run's Postgres is not complete, or its 30,000 ticks not all archived:\n%s", out)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "j", "run-*"))
	// The journal's ticks of the synthetic feed's first symbol, in the
	// middle third of its time range.
	jt := readJournalTicks(t, runs[0])
	var ticks []journalTick
	for _, off := range slices.Sorted(maps.Keys(jt)) {
		ticks = append(ticks, jt[off])
	}
	first, last := ticks[0].tick.TsEvent, ticks[len(ticks)-1].tick.TsEvent
	lo, hi := first+(last-first)/3, first+2*(last-first)/3
	var want []string // ts_event,in_seq of the journal's ticks of sym in [lo, hi]
	for _, j := range ticks {
		if tk := j.tick; j.name == sym && tk.TsEvent >= lo && tk.TsEvent <= hi {
			want = append(want, fmt.Sprintf("%d,%d", tk.TsEvent, tk.InSeq))
		}
	}
	if len(want) == 0 {
		t.Fatalf("no %s ticks in the journal's middle third (%d ticks)", sym, len(ticks))
	}
	from, to := time.Unix(0, lo).UTC().Format(time.RFC3339Nano), time.Unix(0, hi).UTC().Format(time.RFC3339Nano)
	code, out, errOut = cli(t, "ticks", "--tenant", "acme", "--symbol", sym, "--from", from, "--to", to, "--csv")
	if code != 0 {
		t.Fatalf("ticks: exit %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[0] != ticksCSVHeader {
		t.Fatalf("CSV header %q", lines[0])
	}
	var got []string
	for _, l := range lines[1:] {
		c := strings.Split(l, ",")
		if len(c) != 22 || c[0] != "acme" || c[1] != sym {
			t.Fatalf("CSV row %q", l)
		}
		got = append(got, c[2]+","+c[5]) // ts_event, in_seq
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ticks printed %d rows, the journal has %d of %s in that range (first %v, want %v)", len(got), len(want), sym,
			got[:min(3, len(got))], want[:min(3, len(want))])
	}
	pq := filepath.Join(dir, "sym0.parquet")
	if code, _, errOut = cli(t, "ticks", "--tenant", "acme", "--symbol", sym, "--from", from, "--to", to, "--out", pq); code != 0 {
		t.Fatalf("ticks --out: exit %d\n%s", code, errOut)
	}
	b, err := os.ReadFile(pq)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tickarchive.ReadBytes(b)
	if err != nil || len(rows) != len(want) {
		t.Fatalf("%d rows in %s (%v), want %d", len(rows), pq, err, len(want))
	}
	for _, bad := range [][]string{{"--from", "yesterday", "--to", to}, {"--from", to, "--to", from}, {"--from", from, "--to", to, "--csv", "--out", pq}} {
		if code, _, _ = cli(t, append([]string{"ticks", "--symbol", sym}, bad...)...); code != 2 {
			t.Fatalf("ticks %v: exit %d, want 2", bad, code)
		}
	}
}
