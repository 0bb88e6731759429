package codectest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update-golden", false, "rewrite the golden encodings under testdata/golden")

// lineBytes is how many bytes one line of a golden file holds.
const lineBytes = 32

// Golden compares got with testdata/golden/<name>.hex (hex, lineBytes
// bytes a line; blank space is ignored). With -update-golden it writes the
// file instead.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".hex")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(Format(got)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update-golden to create it)", err)
	}
	want, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: encoding changed at byte %d (got %d bytes, want %d):\n got %s\nwant %s",
			name, i, len(got), len(want), Format(got), Format(want))
	}
}

// Format renders b as a golden file's text.
func Format(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		n := min(len(b), lineBytes)
		sb.WriteString(hex.EncodeToString(b[:n]))
		sb.WriteByte('\n')
		b = b[n:]
	}
	return sb.String()
}

// Reencodes is the check of a decoder's fuzz target: what dec makes of
// the bytes b is an error wrapping corrupt, or a value that enc writes back
// as exactly b (a decoder accepts only canonical encodings).
func Reencodes[T any](t testing.TB, b []byte, corrupt error, dec func([]byte) (T, error), enc func(T) []byte) {
	t.Helper()
	v, err := dec(b)
	if err != nil {
		if !errors.Is(err, corrupt) {
			t.Fatalf("error %v does not wrap %v", err, corrupt)
		}
		return
	}
	if again := enc(v); !bytes.Equal(again, b) {
		t.Fatalf("accepted %T does not re-encode to its bytes:\n got %x\nwant %x", v, again, b)
	}
}

// BenchDecode measures dec reading rec back, as a replay does.
func BenchDecode[T any](b *testing.B, rec []byte, dec func([]byte) (T, error)) {
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, err := dec(rec); err != nil {
			b.Fatal(err)
		}
	}
}
