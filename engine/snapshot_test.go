package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestReplaySnapshotFirst: a capture that opens with a session snapshot
// whose ts_event is days old (testdata/snapshot-first.mbo.dbn, written by
// adapters/dbn's TestSnapshotFirstFile) replays to one symbol under its
// mapped name, no unknown_order reject (the live cancels find the
// snapshot's orders), and windows only where the capture has live data:
// none in the snapshot's pseudo-history.
func TestReplaySnapshotFirst(t *testing.T) {
	jdir := filepath.Join(t.TempDir(), "j")
	sum, err := Replay(context.Background(), []string{"testdata/snapshot-first.mbo.dbn"}, ReplayOptions{JournalDir: jdir})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Symbols) != 1 || sum.Symbols[0].Symbol != "ESH4" {
		t.Fatalf("symbols %+v", sum.Symbols)
	}
	if n := sum.Rejects["unknown_order"]; n != 0 {
		t.Fatalf("%d unknown_order rejects: the snapshot's orders were not on the book (rejects %v)", n, sum.Rejects)
	}
	if sum.Windows == 0 {
		t.Fatal("no window from the live records")
	}
	// The capture's ts_recv span starts one second into 2024-01-01 10:00Z;
	// the snapshot's ts_events are five days earlier.
	first := time.Date(2024, 1, 1, 10, 0, 1, 0, time.UTC).UnixNano()
	for _, w := range journalWindows(t, jdir) {
		if w.End <= first {
			t.Fatalf("window [%d, %d) before the capture's first ts_recv %d: pseudo-history", w.Start, w.End, first)
		}
	}
}
