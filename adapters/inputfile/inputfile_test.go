package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, n), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRefusesIrregular: /dev/zero, a FIFO (nobody writing: a blocking open
// would hang the test) and a directory are refused before any read.
func TestRefusesIrregular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/dev/zero", fifo, dir} {
		_, err := ReadAll(name, Options{MaxBytes: 1 << 20})
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: err = %v, want ErrNotRegular", name, err)
		}
		if _, _, err := Open(name, Options{}); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Open %s: err = %v, want ErrNotRegular", name, err)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, 100)
	if b, err := ReadAll(p, Options{MaxBytes: 100}); err != nil || len(b) != 100 {
		t.Fatalf("at the limit: %d bytes, %v", len(b), err)
	}
	if _, err := ReadAll(p, Options{MaxBytes: 99}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := ReadAll(p, Options{}); err == nil {
		t.Fatal("ReadAll without a limit accepted")
	}
	if _, _, err := Open(p, Options{MaxBytes: -1}); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
		t.Fatalf("negative MaxBytes: %v", err)
	}
}

// TestDir: names under Dir open (relative or absolute); .., absolute
// paths elsewhere and symbolic links out of Dir are refused.
func TestDir(t *testing.T) {
	base := t.TempDir()
	models := filepath.Join(base, "models")
	if err := os.Mkdir(models, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(models, "m.safetensors"), 10)
	write(t, filepath.Join(base, "secret"), 10)
	if err := os.Symlink("../secret", filepath.Join(models, "rel-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(base, "secret"), filepath.Join(models, "abs-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("m.safetensors", filepath.Join(models, "alias")); err != nil {
		t.Fatal(err)
	}
	o := Options{Dir: models, MaxBytes: 1 << 10, What: "model file"}
	for _, ok := range []string{"m.safetensors", filepath.Join(models, "m.safetensors"), "alias", "./x/../m.safetensors"} {
		if b, err := ReadAll(ok, o); err != nil || len(b) != 10 {
			t.Errorf("%s: %d bytes, %v", ok, len(b), err)
		}
	}
	for _, bad := range []string{"../secret", filepath.Join(base, "secret"), "rel-out", "abs-out", "/etc/passwd", "../../../../etc/shadow"} {
		_, err := ReadAll(bad, o)
		if !errors.Is(err, ErrOutsideDir) {
			t.Errorf("%s: err = %v, want ErrOutsideDir", bad, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "model file ") {
			t.Errorf("%s: error does not name what: %v", bad, err)
		}
	}
}
