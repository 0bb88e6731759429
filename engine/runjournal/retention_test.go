package runjournal

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"thunderline/persist/journal"
)

// mkRun writes a small journal in root/name, last written age ago, and
// returns its directory.
func mkRun(t *testing.T, root, name string, records int, age time.Duration) string {
	t.Helper()
	dir := filepath.Join(root, name)
	j, err := journal.Open(journal.Options{Dir: dir, Compression: journal.CompressionNone, Fsync: journal.FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	for i := range records {
		if _, err := j.Append(RecTick, make([]byte, 100+i%7)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	setAge(t, dir, age)
	return dir
}

func setAge(t *testing.T, dir string, age time.Duration) {
	t.Helper()
	at := time.Now().Add(-age)
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = os.Chtimes(p, at, at)
		}
		return err
	})
}

func exists(dir string) bool { _, err := os.Stat(dir); return err == nil }

// TestRetentionByAge: journals older than keep_for go; the current run's,
// a locked one, and a held one stay (and say why) until the hold is
// released; a directory that is no journal is never touched.
func TestRetentionByAge(t *testing.T) {
	root := t.TempDir()
	old := mkRun(t, root, "run-a", 100, 72*time.Hour)
	held := mkRun(t, root, "run-b", 100, 72*time.Hour)
	current := mkRun(t, root, "run-c", 100, 72*time.Hour)
	locked := mkRun(t, root, "run-d", 100, 72*time.Hour)
	fresh := mkRun(t, root, "run-e", 100, time.Hour)
	other := filepath.Join(root, "notes")
	os.MkdirAll(other, 0o755)
	setAge(t, other, 100*time.Hour)
	if err := SetHold(held, "postgres"); err != nil {
		t.Fatal(err)
	}
	setAge(t, held, 72*time.Hour)
	j, err := journal.Open(journal.Options{Dir: locked, Fsync: journal.FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r := Retention{Root: root, KeepFor: 24 * time.Hour, Current: current}
	rep, err := r.Apply()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Deleted, []string{old}) || exists(old) {
		t.Fatalf("deleted %v", rep.Deleted)
	}
	for dir, want := range map[string]string{held: "held by postgres (not consumed yet)", current: "the current run's journal", locked: "a writer holds it"} {
		if rep.Kept[dir] != want || !exists(dir) {
			t.Errorf("%s: kept %q, want %q", dir, rep.Kept[dir], want)
		}
	}
	if !exists(fresh) || !exists(other) {
		t.Fatal("a fresh journal or a directory that is no journal was deleted")
	}
	// Shipped: the hold goes, and so does the journal.
	if err := ReleaseHold(held, "postgres"); err != nil {
		t.Fatal(err)
	}
	setAge(t, held, 72*time.Hour)
	if rep, err = r.Apply(); err != nil || !slices.Equal(rep.Deleted, []string{held}) {
		t.Fatalf("after release: deleted %v, %v", rep.Deleted, err)
	}
}

// TestRetentionBySize: the oldest journals go until the rest fit keep_bytes.
func TestRetentionBySize(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i, name := range []string{"run-1", "run-2", "run-3", "run-4"} {
		dirs = append(dirs, mkRun(t, root, name, 2000, time.Duration(10-i)*time.Hour))
	}
	runs, err := listRuns(root)
	if err != nil || len(runs) != 4 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	each := runs[0].bytes
	rep, err := Retention{Root: root, KeepBytes: 2*each + each/2, Current: dirs[3]}.Apply()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Deleted, dirs[:2]) || rep.TotalBytes > 2*each+each/2 {
		t.Fatalf("deleted %v (total left %d, each %d)", rep.Deleted, rep.TotalBytes, each)
	}
	if rep.Freed != 2*each {
		t.Fatalf("freed %d, want %d", rep.Freed, 2*each)
	}
	// No limit: nothing happens.
	if rep, err := (Retention{Root: root}).Apply(); err != nil || len(rep.Deleted) != 0 {
		t.Fatalf("%v %v", rep, err)
	}
}
