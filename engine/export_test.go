package engine

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// A run's journal exports as a training slice: one row per window whose
// label was filled valid, features and the label's class; the counts add
// up with the run's.
func TestExportSlice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "j")
	s := runSynthetic(t, testProfile(t, lateProfile), 60_000, 2, dir)
	out := filepath.Join(t.TempDir(), "slice.jsonl")
	sum, err := ExportSliceFile(dir, out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Windows != s.Windows || sum.Labels != s.LabelsFilled || sum.Rows == 0 || sum.Rows+sum.Invalid+sum.Unlabeled != sum.Windows || len(sum.SHA256) != 64 {
		t.Fatalf("export %+v, run windows %d labels %d", sum, s.Windows, s.LabelsFilled)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var n uint64
	classes := map[int]int{}
	for sc.Scan() {
		var r SliceRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Features) != 16 || len(r.Raw) != 13 || r.Kind != "market" || len(r.Hash) != 64 || (r.Label != -1 && r.Label != 0 && r.Label != 1) {
			t.Fatalf("row %+v", r)
		}
		classes[r.Label]++
		n++
	}
	if n != sum.Rows || len(classes) < 2 {
		t.Fatalf("%d rows read, %d written; classes %v", n, sum.Rows, classes)
	}
	again, err := ExportSliceFile(dir, filepath.Join(t.TempDir(), "again.jsonl"))
	if err != nil || again.SHA256 != sum.SHA256 {
		t.Fatalf("a second export differs: %v %s %s", err, again.SHA256, sum.SHA256)
	}
}
