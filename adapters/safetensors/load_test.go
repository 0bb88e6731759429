package safetensors

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"thunderline/adapters/inputfile"
)

// TestLoadHostile: the admin swap's weights path pointed at /dev/zero, a
// FIFO nobody writes, a directory or an over-size file is refused before
// anything is read (memory stays flat), and a well-formed file still loads.
func TestLoadHostile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.safetensors")
	if err := os.WriteFile(big, file(`{}`, 0), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 1<<20); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, c := range []struct {
		path string
		o    LoadOptions
		want error
	}{
		{"/dev/zero", LoadOptions{}, inputfile.ErrNotRegular},
		{fifo, LoadOptions{}, inputfile.ErrNotRegular},
		{dir, LoadOptions{}, inputfile.ErrNotRegular},
		{big, LoadOptions{MaxBytes: 1 << 19}, inputfile.ErrTooLarge},
	} {
		if _, err := LoadWith(c.path, c.o); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.path, err, c.want)
		}
		if _, err := LoadMLPWith(c.path, "x", c.o); !errors.Is(err, c.want) {
			t.Errorf("LoadMLP %s: err = %v, want %v", c.path, err, c.want)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("refusals allocated %d bytes", grew)
	}
	if _, err := LoadWith(dir, LoadOptions{MaxBytes: -1}); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
		t.Errorf("negative MaxBytes: %v", err)
	}
	good := filepath.Join(dir, "ok.safetensors")
	if err := os.WriteFile(good, file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := LoadWith(good, LoadOptions{Dir: dir}); err != nil || len(f.Names()) != 1 {
		t.Fatalf("good file: %v", err)
	}
}

// TestLoadEchoesNothing: pointing the loader at a file that is not
// safetensors says so without revealing any of its bytes (today's bug:
// the header length printed the first 8 bytes of /etc/shadow), and a path
// out of the models directory is refused before it is opened.
func TestLoadEchoesNothing(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := os.Mkdir(models, 0o700); err != nil {
		t.Fatal(err)
	}
	secret := []byte("root:$6$s3cr3tSALT$hash:19000:0:99999:7:::\n")
	for _, n := range []int{len(secret), 12} { // header length huge; header length within the file
		data := secret
		if n == 12 {
			data = append(binary.LittleEndian.AppendUint64(nil, 4), "{zq}"...)
		}
		p := filepath.Join(dir, "shadow"+strconv.Itoa(n))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadWith(p, LoadOptions{})
		if err == nil {
			t.Fatalf("%s loaded", p)
		}
		msg := strings.TrimPrefix(err.Error(), "load "+p)
		for _, leak := range []string{"root", "s3cr3t", "zq", "'z'", strconv.FormatUint(binary.LittleEndian.Uint64(secret), 10)} {
			if strings.Contains(msg, leak) {
				t.Errorf("error echoes the file (%q): %v", leak, err)
			}
		}
		if n == len(secret) && !strings.Contains(msg, "not a safetensors file (header length out of range") {
			t.Errorf("error does not say what is wrong: %v", err)
		}
		rel, _ := filepath.Rel(models, p)
		if _, err := LoadWith(rel, LoadOptions{Dir: models}); !errors.Is(err, inputfile.ErrOutsideDir) {
			t.Errorf("%s outside the models directory: %v", rel, err)
		}
	}
}
