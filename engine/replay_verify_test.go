package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// replay --verify of market-data files replays them twice and compares
// every digest, traces included (a regression: the trace comparison was
// left out, so every such verify failed).
func TestReplayVerifyMarketFiles(t *testing.T) {
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".dbn") && !strings.HasSuffix(e.Name(), ".dbn.zst") {
			continue
		}
		sum, err := Replay(context.Background(), []string{filepath.Join(dataDir, e.Name())}, ReplayOptions{Verify: true, Partitions: 3})
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if sum.Verify == nil || !sum.Verify.OK() || !sum.Verify.TracesMatch {
			t.Fatalf("%s: verify %+v", e.Name(), sum.Verify)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no DBN samples")
	}
}
