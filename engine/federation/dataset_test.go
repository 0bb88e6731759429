package federation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"thunderline/adapters/federation/lease"
	"thunderline/adapters/inputfile"
)

func manifest(uri, hash string) lease.Manifest {
	return lease.Manifest{Dataset: lease.Dataset{URIs: []string{uri}, Hashes: []string{hash}}}
}

// TestCheckDatasetBounded: dataset URIs naming /dev/zero (a core burnt
// past SIGTERM before), a FIFO, a file outside the data directory
// (file:///etc/shadow showed its sha256 to read_only tokens) or an
// over-size file are refused before anything is read; a mismatch does not
// print the file's hash; hashing stops with its context; the right slice
// passes.
func TestCheckDatasetBounded(t *testing.T) {
	work := t.TempDir()
	data := []byte(`{"x":1}` + "\n")
	slice := filepath.Join(work, "site-1.jsonl")
	if err := os.WriteFile(slice, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	fifo := filepath.Join(work, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := Options{WorkDir: work}.withDefaults()
	ctx := context.Background()
	for _, c := range []struct {
		uri  string
		o    Options
		want error
	}{
		{"file:///dev/zero", Options{WorkDir: work, DataDir: "/"}.withDefaults(), inputfile.ErrNotRegular},
		{"file://" + fifo, o, inputfile.ErrNotRegular},
		{"file://" + outside, o, inputfile.ErrOutsideDir},
		{"file:///etc/shadow", o, inputfile.ErrOutsideDir},
		{"file://" + work + "/../x", o, inputfile.ErrOutsideDir},
		{"file://" + slice, Options{WorkDir: work, MaxDatasetBytes: 4}.withDefaults(), inputfile.ErrTooLarge},
	} {
		if _, err := checkDataset(ctx, manifest(c.uri, good), c.o); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.uri, err, c.want)
		}
	}
	secretSum := sha256.Sum256([]byte("secret"))
	_, err := checkDataset(ctx, manifest("file://"+outside, good), Options{WorkDir: work, DataDir: "/"}.withDefaults())
	if err == nil || strings.Contains(err.Error(), hex.EncodeToString(secretSum[:])) {
		t.Errorf("mismatch: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := checkDataset(cancelled, manifest("file://"+slice, good), o); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if p, err := checkDataset(ctx, manifest("file://"+slice, good), o); err != nil || p != slice {
		t.Errorf("the site's slice: %q %v", p, err)
	}
}
