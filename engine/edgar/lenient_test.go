package edgar

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCorruptedFilingMakesAWindow: Apple's 10-K with one mismatched tag
// goes through the filings path like the good one: no reject, one filled
// window and its trace, the recovery counted among the issues.
func TestCorruptedFilingMakesAWindow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(edgarData, "html/Apple.10-K.html"))
	if err != nil {
		t.Fatal(err)
	}
	end := []byte("</ix:nonNumeric>")
	at := len(b)/2 + bytes.Index(b[len(b)/2:], end)
	bad := append(append(append([]byte(nil), b[:at]...), "</ix:nonFraction>"...), b[at+len(end):]...)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Apple.10-K.html"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	s := ingestDir(t, dir, Options{Partitions: 1})
	if s.Rejected != 0 || s.Windows != 1 || s.Traces != 1 || s.Issues == 0 {
		t.Fatalf("summary %+v", s)
	}
}
