package source

import (
	"os"
	"path/filepath"
	"testing"
)

// dataDir is the shared real EDGAR sample directory.
func dataDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join("..", "..", "..", "..", "shared", "data", "edgar")
	if _, err := os.Stat(filepath.Join(d, "sgml", "0000950129-95-001652.txt")); err != nil {
		t.Fatalf("shared EDGAR samples not found: %v", err)
	}
	return d
}

func readSample(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
