package engine

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden digests in testdata/ (a hash change is a breaking change: say so in the commit)")

// TestGoldenDigests pins the digests of fixed inputs: the shared EDGAR
// samples and a seeded synthetic market run. Any change to an encoding, a
// feature, the router or the filings path shows here; regenerate with
// `go test ./engine -run TestGoldenDigests -update` only for an intended,
// announced hash change.
func TestGoldenDigests(t *testing.T) {
	var b strings.Builder
	es, err := Replay(context.Background(), []string{edgarData}, ReplayOptions{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	e := es.Edgar
	fmt.Fprintf(&b, "edgar samples: docs %d filings %d windows %d traces %d\n", e.Docs, e.Filings, e.Windows, e.Traces)
	fmt.Fprintf(&b, "  doc_digest %s\n  window_digest %s\n  trace_digest %s\n", e.DocDigest, e.WindowDigest, e.TraceDigest)
	s := runSynthetic(t, testProfile(t, lateProfile), 60_000, 2, "")
	fmt.Fprintf(&b, "synthetic late profile, 60000 ticks: windows %d labels %d traces %d\n", s.Windows, s.LabelsFilled, s.Traces)
	fmt.Fprintf(&b, "  window_digest %s\n  label_digest %s\n  trace_digest %s\n", s.WindowDigest, s.LabelDigest, s.TraceDigest)
	got := b.String()
	path := filepath.Join("testdata", "digests.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("digests changed (a breaking change unless intended):\n got:\n%s\nwant:\n%s", got, want)
	}
}
