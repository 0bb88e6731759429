package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"thunderline/engine/runjournal"
	"thunderline/hotpath/record"
	"thunderline/persist/artifacts"
	"thunderline/persist/journal"
	"thunderline/persist/tickarchive"
)

// journalTick is a tick as the journal holds it, with its symbol's name.
type journalTick struct {
	name string
	tick record.MarketTick
}

// readJournalTicks reads a run journal's ticks by offset, on its own (not
// through runjournal.ArchiveTicks).
func readJournalTicks(t *testing.T, dir string) map[uint64]journalTick {
	t.Helper()
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	names := map[uint32]string{}
	out := map[uint64]journalTick{}
	for {
		kind, off, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch kind {
		case runjournal.RecSymbol:
			names[binary.LittleEndian.Uint32(p)] = string(p[4:])
		case runjournal.RecTick:
			var tk record.MarketTick
			if err := record.DecodeTick(p, &tk); err != nil {
				t.Fatal(err)
			}
			out[uint64(off)] = journalTick{names[tk.Symbol], tk}
		}
	}
}

// sameTick says whether archived row r is journal tick j at offset off,
// field by field, as README "Raw ticks" documents the columns.
func sameTick(r tickarchive.Row, tenant string, off uint64, j journalTick) bool {
	t := &j.tick
	kinds := map[record.Kind]string{record.KindQuote: "quote", record.KindTrade: "trade", record.KindOrder: "order", record.KindClear: "clear"}
	letter := func(c byte) string {
		if c == 0 {
			return ""
		}
		return string([]byte{c})
	}
	return r.Tenant == tenant && r.Symbol == j.name && r.JournalOffset == int64(off) && r.TsEvent == t.TsEvent && r.TsRecv == t.TsRecv &&
		r.InSeq == int64(t.InSeq) && r.Seq == int64(t.Seq) && r.Kind == kinds[t.Kind] && r.Action == letter(t.Action) &&
		r.Side == letter(t.Side) && r.Depth == int32(t.Depth) && r.BidPx == t.BidPx && r.AskPx == t.AskPx && r.TradePx == t.TradePx &&
		r.Price == t.Price && r.BidQty == int64(t.BidQty) && r.AskQty == int64(t.AskQty) && r.TradeQty == int64(t.TradeQty) &&
		r.Size == int64(t.Size) && r.OrderID == int64(t.OrderID) && r.Venue == int32(t.Venue) && r.Flags == int32(t.Flags)
}

// TestArchiveReplayJournal: the raw ticks of a real journal — a replay of
// three Databento captures (MBO, MBP-1 and trades: orders, quotes and
// trades of two symbols) with the journal on — archived into the artifact store and read
// back: every journaled tick exactly once, equal field by field; the
// stored bytes hash to the sha256 the file and the store report; pyarrow
// reads the same rows; a journal range and a symbol and time range select
// exactly the journal's ticks of them; a corrupt stored file is an error.
func TestArchiveReplayJournal(t *testing.T) {
	const tenant = "acme"
	dir := t.TempDir()
	jdir := filepath.Join(dir, "journal")
	data := "../../../shared/data/dbn/"
	if code, _, errOut := cli(t, "replay", "--journal", jdir, data+"esh4-glbx-mdp3-20231224.mbo.dbn.zst",
		data+"futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst", data+"futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"); code != 0 {
		t.Fatalf("replay: exit %d\n%s", code, errOut)
	}
	want := readJournalTicks(t, jdir)
	var w tickarchive.Writer
	n, err := runjournal.ArchiveTicks(jdir, 0, 0, tenant, &w)
	if err != nil || n != len(want) || n < 10_000 {
		t.Fatalf("archived %d ticks (%v), the journal has %d", n, err, len(want))
	}
	store, err := artifacts.NewFS(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, a, err := w.Put(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(a.URI)
	b, err := os.ReadFile(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(b) != f.SHA256 || f.SHA256 != a.SHA256 || int64(len(b)) != f.Bytes || f.Rows != n || len(f.Symbols) < 2 {
		t.Fatalf("file %+v, artifact %+v: the stored %d bytes hash to %x", f, a, len(b), sha256.Sum256(b))
	}
	rc, err := store.Open(ctx, a) // checks the sha256 as it reads
	if err != nil {
		t.Fatal(err)
	}
	stored, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := tickarchive.ReadBytes(stored)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for i, r := range rows {
		off := uint64(r.JournalOffset)
		if seen[off] || !sameTick(r, tenant, off, want[off]) {
			t.Fatalf("row %d %+v: the journal's tick at %d is %+v (seen before: %t)", i, r, off, want[off], seen[off])
		}
		seen[off] = true
		if i > 0 && (r.Symbol < rows[i-1].Symbol || r.Symbol == rows[i-1].Symbol && r.TsEvent < rows[i-1].TsEvent) {
			t.Fatalf("row %d out of (symbol, ts_event) order", i)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d distinct ticks back, the journal has %d", len(seen), len(want))
	}
	var jbytes int64
	filepath.WalkDir(jdir, func(_ string, d os.DirEntry, _ error) error {
		if info, err := d.Info(); err == nil && !d.IsDir() {
			jbytes += info.Size()
		}
		return nil
	})
	t.Logf("%d ticks of %d symbols from a real journal of %d bytes (windows and traces too): archive file %d bytes (%.1f a tick)",
		f.Rows, len(f.Symbols), jbytes, f.Bytes, float64(f.Bytes)/float64(f.Rows))

	pyarrowSameRows(t, u.Path, rows)
	selectsExactly(t, b, rows, f)
	journalRange(t, jdir, want)

	// The store's copy corrupted in place: reading it through the store is
	// an error (sha256), and so is parsing it.
	bad := bytes.Clone(b)
	bad[len(bad)/2] ^= 0xff
	if err := os.WriteFile(u.Path, bad[:len(bad)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err = store.Open(ctx, a)
	if err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
	}
	if !errors.Is(err, artifacts.ErrCorrupt) {
		t.Fatalf("a corrupt stored file read back with %v, want ErrCorrupt", err)
	}
	if _, err := tickarchive.ReadBytes(bad[:len(bad)-100]); err == nil || !strings.HasPrefix(err.Error(), "tickarchive: ") {
		t.Fatalf("a truncated file parsed: %v", err)
	}
}

// pyarrowSameRows: pyarrow (requirements.txt) reads path's rows equal to
// rows, and README's filtered read of a symbol's middle third of times
// finds as many rows as there are.
func pyarrowSameRows(t *testing.T, path string, rows []tickarchive.Row) {
	t.Helper()
	sym := rows[len(rows)-1].Symbol
	var lo, hi int64 = 1<<63 - 1, 0
	for _, r := range rows {
		if r.Symbol == sym {
			lo, hi = min(lo, r.TsEvent), max(hi, r.TsEvent)
		}
	}
	from, to := lo+(hi-lo)/3, lo+2*(hi-lo)/3
	selected := 0
	for _, r := range rows {
		if r.Symbol == sym && r.TsEvent >= from && r.TsEvent <= to {
			selected++
		}
	}
	out, err := exec.Command("python3", "../../persist/tickarchive/testdata/read_pyarrow.py", path, sym,
		strconv.FormatInt(from, 10), strconv.FormatInt(to, 10)).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("pyarrow: %v: %s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines)-2 != len(rows) {
		t.Fatalf("pyarrow read %d rows, Go %d", len(lines)-2, len(rows))
	}
	if want := fmt.Sprintf(`{"selected": %d}`, selected); lines[len(lines)-1] != want || selected == 0 {
		t.Fatalf("pyarrow's filtered read of %s [%d, %d]: %s, want %s", sym, from, to, lines[len(lines)-1], want)
	}
	for i, l := range lines[1 : len(lines)-1] {
		var got tickarchive.Row
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if got != rows[i] {
			t.Fatalf("row %d: pyarrow %+v, Go %+v", i, got, rows[i])
		}
	}
}

// selectsExactly: Select of each symbol and the middle third of its times
// is exactly those rows.
func selectsExactly(t *testing.T, file []byte, rows []tickarchive.Row, f tickarchive.File) {
	t.Helper()
	for _, sym := range f.Symbols {
		var lo, hi int64 = 1<<63 - 1, 0
		for _, r := range rows {
			if r.Symbol == sym {
				lo, hi = min(lo, r.TsEvent), max(hi, r.TsEvent)
			}
		}
		from, to := lo+(hi-lo)/3, lo+2*(hi-lo)/3
		var want []tickarchive.Row
		for _, r := range rows {
			if r.Symbol == sym && r.TsEvent >= from && r.TsEvent <= to {
				want = append(want, r)
			}
		}
		got, err := tickarchive.Select(bytes.NewReader(file), int64(len(file)), tickarchive.Filter{Symbol: sym, From: from, To: to})
		if err != nil || len(got) != len(want) {
			t.Fatalf("%s [%d, %d]: %d rows (%v), want %d", sym, from, to, len(got), err, len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: row %d %+v, want %+v", sym, i, got[i], want[i])
			}
		}
	}
}

// journalRange: ArchiveTicks of a middle range of offsets adds exactly the
// journal's ticks there.
func journalRange(t *testing.T, dir string, want map[uint64]journalTick) {
	t.Helper()
	from, to := last(want)/3, 2*last(want)/3
	var w tickarchive.Writer
	n, err := runjournal.ArchiveTicks(dir, from, to, "acme", &w)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	f, err := w.WriteFile(&buf)
	if err != nil {
		t.Fatal(err)
	}
	inRange := 0
	for off := range want {
		if off >= from && off < to {
			inRange++
		}
	}
	if n != inRange || f.Rows != n || f.FirstOffset < from || f.LastOffset >= to {
		t.Fatalf("[%d, %d): added %d, file %d rows at offsets [%d, %d]; the journal has %d ticks there", from, to, n, f.Rows,
			f.FirstOffset, f.LastOffset, inRange)
	}
}

// last is the highest offset of a journal tick.
func last(ticks map[uint64]journalTick) uint64 {
	var n uint64
	for off := range ticks {
		n = max(n, off)
	}
	return n
}
