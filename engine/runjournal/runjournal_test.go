package runjournal

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"thunderline/engine/config"
	"thunderline/persist/journal"
)

// Every kind has its own name; an unknown kind is named by its number.
func TestKindNames(t *testing.T) {
	seen := map[string]uint8{}
	for k := RecMeta; k <= RecOperator; k++ {
		n := KindName(k)
		if n == "" || strings.HasPrefix(n, "kind_") {
			t.Errorf("kind %d: name %q", k, n)
		}
		if o, dup := seen[n]; dup {
			t.Errorf("kinds %d and %d are both %q", o, k, n)
		}
		seen[n] = k
	}
	for _, k := range []uint8{0, RecOperator + 1, 255} {
		if n := KindName(k); n != fmt.Sprintf("kind_%d", k) {
			t.Errorf("unknown kind %d: name %q", k, n)
		}
	}
}

// writeJournal writes records of the given kinds (empty payloads but the
// first) to a new journal and returns its directory.
func writeJournal(t *testing.T, first []byte, kinds ...uint8) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "j")
	j, err := journal.Open(journal.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range kinds {
		var p []byte
		if i == 0 {
			p = first
		}
		if _, err := j.Append(k, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A run's journal starts with its profile; ReadMeta gives it back, and
// refuses a journal that starts otherwise.
func TestMeta(t *testing.T) {
	prof, err := config.Parse([]byte("tenant: acme\npartitions: 3\n"), "meta.yaml")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := EncodeMeta(prof)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeJournal(t, meta, RecMeta, RecTick)
	if !IsJournal(dir) || IsJournal(t.TempDir()) {
		t.Fatal("IsJournal must tell a journal from an empty directory")
	}
	got, err := ReadMeta(dir)
	if err != nil || got.TenantName() != "acme" || got.NumPartitions() != 3 {
		t.Fatalf("ReadMeta: %+v, %v", got, err)
	}
	if _, err := ReadMeta(writeJournal(t, nil, RecTick)); err == nil || !strings.Contains(err.Error(), "not a thunderline run journal") {
		t.Fatalf("a journal without its meta record: %v", err)
	}
	if _, err := DecodeMeta([]byte(`{"format": 2}`), "future"); err == nil {
		t.Fatal("a meta record of another format decoded")
	}
	if !errors.Is(ErrVerify, ErrVerify) || ErrVerify.Error() != "verification failed" {
		t.Fatal(ErrVerify)
	}
}
