package engine

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"thunderline/adapters/dbn"
	"thunderline/adapters/inputfile"
	"thunderline/hotpath/record"
)

// TestDBNInputRefusesFIFO: a FIFO or a device given as a run/replay input
// is refused with a clear error instead of blocking in open() (nobody
// writes the FIFO: a blocking open would hang the test), also when a file
// is replaced by a FIFO after the source was built.
func TestDBNInputRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "in.dbn")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero", dir} {
		if _, err := newDBNSource([]string{p}, record.NewSymbols(), dbn.SourceOptions{}); !errors.Is(err, inputfile.ErrNotRegular) {
			t.Errorf("%s: err = %v, want ErrNotRegular", p, err)
		}
	}
	swapped := filepath.Join(dir, "swapped.dbn")
	if err := os.WriteFile(swapped, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := newDBNSource([]string{swapped}, record.NewSymbols(), dbn.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(swapped); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(swapped, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(make([]record.MarketTick, 8)); !errors.Is(err, inputfile.ErrNotRegular) {
		t.Errorf("swapped for a FIFO: err = %v, want ErrNotRegular", err)
	}
}
