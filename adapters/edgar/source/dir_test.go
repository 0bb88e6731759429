package source

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func drainDir(t *testing.T, d *DirSource) []Doc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var docs []Doc
	for {
		doc, err := d.Next(ctx)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		docs = append(docs, doc)
	}
}

func TestDirSamples(t *testing.T) {
	d, err := Dir(dataDir(t), DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := []struct {
		name string
		kind Kind
		cik  uint64
	}{
		{"html/Apple.10-K.html", KindInlineXBRL, 0},
		{"html/Apple.10-Q.html", KindInlineXBRL, 0},
		{"index/company.20221003.idx", KindIndex, 0},
		{"index/form.20200318.idx", KindIndex, 0},
		{"json/CIK0001318605.submissions.json", KindSubmissions, 1318605},
		{"json/CIK0001997711.companyfacts.json", KindCompanyFacts, 1997711},
		{"sgml/0000950129-95-001652.txt", KindSGML, 0},
		{"sgml/0001104659-25-002604.txt", KindSGML, 0},
		{"sgml/0001213900-25-032135.txt", KindSGML, 0},
		{"xbrl/aapl-20230930_htm.xml", KindXBRL, 0},
		{"xbrl/nflx-20100930.xml", KindXBRL, 0},
		{"xbrl/nflx-20240331_htm.xml", KindXBRL, 0},
	}
	docs := drainDir(t, d)
	if len(docs) != len(want) {
		t.Fatalf("got %d docs, want %d: %v", len(docs), len(want), names(docs))
	}
	for i, w := range want {
		got := docs[i]
		if got.Name != w.name || got.Kind != w.kind || got.CIK != w.cik || got.Form != "" || got.Filed != "" {
			t.Errorf("doc %d = {%s %v cik %d %q %q}, want {%s %v cik %d}", i, got.Name, got.Kind, got.CIK, got.Form, got.Filed, w.name, w.kind, w.cik)
		}
		if b := readSample(t, w.name); !slices.Equal(got.Body, b) {
			t.Errorf("%s: body differs from the file (%d vs %d bytes)", w.name, len(got.Body), len(b))
		}
	}
	if s := d.Skipped(); len(s) != 0 {
		t.Errorf("Skipped = %v, want none", s)
	}
	if _, err := d.Next(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
}

func names(docs []Doc) []string {
	var n []string
	for _, d := range docs {
		n = append(n, d.Name)
	}
	return n
}

func TestDirOrderAndSkips(t *testing.T) {
	root := t.TempDir()
	write := func(rel string, size int) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.Repeat("x", size)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", 10)
	write("a/b.txt", 10)
	write("a-b.txt", 10)
	write(".hidden", 10)
	write(".git/config", 10)
	write("sub/.hidden-too", 10)
	write("big.bin", 101)
	write("edge.bin", 100)
	write("edgar/data/320193/0000320193-23-000106.txt", 10)
	write("zz-removed.txt", 10)
	for _, l := range []struct{ target, link string }{
		{"a", "link-dir"},
		{"a.txt", "link-file.txt"},
		{"nowhere", "broken"},
	} {
		if err := os.Symlink(l.target, filepath.Join(root, l.link)); err != nil {
			t.Fatal(err)
		}
	}

	d, err := Dir(root, DirOptions{MaxBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "zz-removed.txt")); err != nil {
		t.Fatal(err)
	}
	docs := drainDir(t, d)
	// Byte order of the slash path: '-' < '.' < '/'.
	want := []string{"a-b.txt", "a.txt", "a/b.txt", "edgar/data/320193/0000320193-23-000106.txt", "edge.bin", "link-file.txt"}
	if got := names(docs); !slices.Equal(got, want) {
		t.Fatalf("names = %q, want %q", got, want)
	}
	if docs[3].CIK != 320193 {
		t.Errorf("CIK from path = %d, want 320193", docs[3].CIK)
	}
	if string(docs[5].Body) != strings.Repeat("x", 10) {
		t.Errorf("symlinked file body = %q", docs[5].Body)
	}
	wantSkips := map[string]string{
		".git":            "hidden",
		".hidden":         "hidden",
		"sub/.hidden-too": "hidden",
		"big.bin":         "exceeds MaxBytes",
		"broken":          "broken symbolic link",
		"link-dir":        "symbolic link to a directory",
		"zz-removed.txt":  "no such file",
	}
	skips := d.Skipped()
	if len(skips) != len(wantSkips) {
		t.Errorf("Skipped = %v, want %d entries", skips, len(wantSkips))
	}
	for _, s := range skips {
		if w, ok := wantSkips[s.Name]; !ok || !strings.Contains(s.Reason, w) {
			t.Errorf("skip %q reason %q, want reason containing %q", s.Name, s.Reason, w)
		}
	}
}

func TestDirErrors(t *testing.T) {
	if _, err := Dir(filepath.Join(t.TempDir(), "missing"), DirOptions{}); err == nil {
		t.Error("Dir(missing) succeeded")
	}
	if _, err := Dir(t.TempDir(), DirOptions{MaxBytes: -1}); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
		t.Errorf("Dir(MaxBytes -1) = %v, want a MaxBytes error", err)
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Dir(root, DirOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next(cancelled) = %v, want context.Canceled", err)
	}
	if doc, err := d.Next(context.Background()); err != nil || doc.Name != "f" {
		t.Errorf("Next after a cancelled call = %q, %v; want f", doc.Name, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
}
