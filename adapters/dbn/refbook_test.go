package dbn

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"thunderline/hotpath/book"
	"thunderline/hotpath/record"
)

// engineBook replays raw (plain DBN) through this package's Source and the
// engine's books (hotpath/book), and returns what refbook.py prints: the
// record's instrument's top of book after every market record, then the
// level counts per instrument; and the names the ticks were given.
func engineBook(t *testing.T, raw []byte) ([]string, map[string]bool) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	syms := record.NewSymbols()
	s := NewSource(r, syms, SourceOptions{})
	books, err := book.New(book.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]record.MarketTick, MaxTicksPerRecord)
	symOf := map[uint32]uint32{} // instrument → symbol id
	var iids []uint32
	names := map[string]bool{}
	var out []string
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		n, err := s.convert(rec, dst)
		if err != nil {
			t.Fatal(err)
		}
		switch RType(rec.b[1]) {
		case RTypeMBO, RTypeMBP0, RTypeMBP1, RTypeMBP10:
		default:
			continue
		}
		iid := le32(rec.b, 4)
		for i := range dst[:n] {
			books.Apply(&dst[i])
			if _, ok := symOf[iid]; !ok {
				iids = append(iids, iid)
			}
			symOf[iid] = dst[i].Symbol
			names[syms.Name(dst[i].Symbol)] = true
		}
		var bid, ask book.Level
		if sym, ok := symOf[iid]; ok {
			bid, ask = books.Get(sym).Level(0)
		}
		out = append(out, fmt.Sprintf("%d %d %d %d %d", iid, bid.Px, bid.Qty, ask.Px, ask.Qty))
	}
	sortU32(iids)
	for _, iid := range iids {
		nb, na := books.Get(symOf[iid]).Levels()
		out = append(out, fmt.Sprintf("levels %d %d %d", iid, nb, na))
	}
	return out, names
}

func sortU32(v []uint32) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// referenceBook runs refbook.py (databento-dbn) on raw.
func referenceBook(t *testing.T, raw []byte) []string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "in.dbn")
	if err := os.WriteFile(f, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "testdata/refbook.py", f)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("refbook.py (databento-dbn from requirements.txt; `make deps`): %v\n%s", err, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func compareBooks(t *testing.T, name string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines from the engine, %d from databento-dbn", name, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: line %d (record %d): engine %q, databento-dbn %q", name, i+1, i, got[i], want[i])
		}
	}
}

// TestBookMatchesDatabento: on every shared capture, the engine's book
// equals an independent book built from databento-dbn's decoding: the top
// of book after every record and the levels at the end, per instrument.
func TestBookMatchesDatabento(t *testing.T) {
	var files []string
	for _, s := range samples { // every shared capture but the definitions
		if s.rtype != RTypeInstrumentDef {
			files = append(files, s.file)
		}
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			raw := decompressed(t, readShared(t, f))
			got, names := engineBook(t, raw)
			compareBooks(t, f, got, referenceBook(t, raw))
			for n := range names {
				if strings.Contains(n, ":") {
					t.Errorf("fallback name %q: the metadata maps every instrument", n)
				}
			}
		})
	}
}

// TestSnapshotFirstCapture: a capture that opens with a session snapshot
// (F_SNAPSHOT records whose ts_event is days before the mapping interval,
// their ts_recv inside it), then live adds and cancels of snapshot orders
// and a clear: one book under the mapped name, equal to databento-dbn's.
func TestSnapshotFirstCapture(t *testing.T) {
	raw := snapshotFirstCapture(t)
	got, names := engineBook(t, raw)
	compareBooks(t, "snapshot-first", got, referenceBook(t, raw))
	if len(names) != 1 || !names["ESH4"] {
		t.Fatalf("names %v, want ESH4 only", names)
	}
}

// snapshotFirstCapture writes the capture TestSnapshotFirstCapture reads.
func snapshotFirstCapture(t testing.TB) []byte {
	md := testMetadata(2)
	md.Schema = SchemaMBO
	const snapFlags = 0x20 | 0x80 // F_SNAPSHOT, F_LAST
	old := uint64(tsDay1 - 5*24*3600*1e9)
	var recs []any
	recv := uint64(tsDay1 + 1e9)
	mbo := func(ts, rv uint64, oid uint64, px int64, size uint32, action, side byte, flags uint8) *MBOMsg {
		return &MBOMsg{Header: hdr(100, ts), OrderID: oid, Price: px, Size: size, Action: action, Side: side, Flags: flags, TsRecv: rv}
	}
	recs = append(recs, mbo(recv, recv, 0, 0, 0, 'R', 'N', 0x20))
	for i := range 40 {
		side := byte('B')
		px := int64(4700-i%10) * 1e9
		if i%2 == 1 {
			side, px = 'A', int64(4701+i%10)*1e9
		}
		recs = append(recs, mbo(old+uint64(i)*1e6, recv+uint64(i), uint64(1000+i), px, uint32(1+i), 'A', side, snapFlags))
	}
	live := uint64(tsDay1 + 2e9)
	for i := range 40 {
		ts := live + uint64(i)*1e6
		switch i % 4 {
		case 0: // cancel a snapshot order
			recs = append(recs, mbo(ts, ts+500, uint64(1000+i), 0, 0, 'C', "BA"[i/2%2], 0x80))
		case 1: // a new order
			recs = append(recs, mbo(ts, ts+500, uint64(2000+i), int64(4695+i%5)*1e9, 5, 'A', 'B', 0x80))
		case 2: // a modify of a snapshot order
			recs = append(recs, mbo(ts, ts+500, uint64(1000+i), int64(4702+i%3)*1e9, 7, 'M', 'A', 0x80))
		case 3: // a trade: no book change
			recs = append(recs, mbo(ts, ts+500, 0, int64(4700)*1e9, 1, 'T', 'B', 0x80))
		}
	}
	return writeStream(t, md, false, recs...)
}

// TestSnapshotFirstFile: engine/testdata/snapshot-first.mbo.dbn (the engine's
// replay test reads it) is exactly what snapshotFirstCapture writes.
func TestSnapshotFirstFile(t *testing.T) {
	const path = "../../engine/testdata/snapshot-first.mbo.dbn"
	want := snapshotFirstCapture(t)
	if os.Getenv("THUNDERLINE_WRITE_TESTDATA") != "" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s differs from snapshotFirstCapture (%v): THUNDERLINE_WRITE_TESTDATA=1 go test -run TestSnapshotFirstFile ./adapters/dbn/", path, err)
	}
}
