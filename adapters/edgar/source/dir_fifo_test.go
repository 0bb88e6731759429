package source

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDirFileSwappedForFIFO: a listed file replaced by a FIFO before it is
// read is skipped with a reason (a blocking open would hang: nobody writes
// the FIFO), and the files after it are still read.
func TestDirFileSwappedForFIFO(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"a.txt", "b.txt"} {
		if err := os.WriteFile(filepath.Join(root, n), []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Dir(root, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(root, "a.txt")
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(a, 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err := d.Next(context.Background())
	if err != nil || doc.Name != "b.txt" || string(doc.Body) != "b.txt" {
		t.Fatalf("next: %v %q", err, doc.Name)
	}
	if _, err := d.Next(context.Background()); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	sk := d.Skipped()
	if len(sk) != 1 || sk[0].Name != "a.txt" || !strings.Contains(sk[0].Reason, "not a regular file") {
		t.Fatalf("skipped %+v", sk)
	}
}
