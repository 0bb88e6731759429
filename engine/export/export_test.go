package export_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"thunderline/engine"
	"thunderline/engine/config"
	"thunderline/engine/export"
)

// A run's journal exports as a training slice: one row per window whose
// label was filled valid, features and the label's class; the counts add
// up with the run's.
func TestExportSlice(t *testing.T) {
	prof, err := config.Parse([]byte(`
partitions: 2
feed: {pace: max, synthetic: {symbols: 40, seed: 9, bad_ratio: 0.001, burst_every: 2s, burst_length: 300ms, max_ticks: 60000}}
normalize: {seq: contiguous}
window: {length: 100ms, overlap: 0.75, allowed_lateness: 5ms, label: {horizon: 300ms, type: class, threshold_bps: 0.5}}
journal: {dir: `+t.TempDir()+`, fsync: never}
`), "export.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := engine.RunLive(context.Background(), engine.RunOptions{Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Journal.Dir
	out := filepath.Join(t.TempDir(), "slice.jsonl")
	sum, err := export.SliceFile(dir, out)
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
		var r export.Row
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
	again, err := export.SliceFile(dir, filepath.Join(t.TempDir(), "again.jsonl"))
	if err != nil || again.SHA256 != sum.SHA256 {
		t.Fatalf("a second export differs: %v %s %s", err, again.SHA256, sum.SHA256)
	}
	if _, err := export.SliceFile(filepath.Join(t.TempDir(), "none"), out); err == nil {
		t.Fatal("a directory without a journal exported")
	}
}
