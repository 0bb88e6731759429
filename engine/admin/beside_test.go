package admin

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"thunderline/actors/link"
	"thunderline/actors/tree"
	"thunderline/engine"
	"thunderline/engine/config"
	"thunderline/engine/edgar"
	"thunderline/engine/runjournal"
)

// `thunderline run` with an edgar section runs the filings path beside the
// market feed: its flow partitions are actors in the tree, its windows go
// out on feature_windows:edgar, its counters are metrics, its journal sits
// beside the run's, and the run's summary includes it.
func TestRunWithFilingsBeside(t *testing.T) {
	root := t.TempDir()
	prof, err := config.Parse([]byte(`
feed: {pace: max, synthetic: {symbols: 4, max_ticks: 20000}}
journal: {dir: `+filepath.Join(root, "j")+`, fsync: never}
edgar: {dir: `+edgarData+`, partitions: 3}
`), "beside.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var sub *link.Subscription
	var actors *tree.Tree
	var pipe *engine.Pipeline
	started := func(p *engine.Pipeline) error {
		var err error
		if actors, err = p.StartTree(tree.Options{}, true, true); err != nil {
			return err
		}
		be := New(p, "synthetic")
		be.Attach()
		sub, err = be.Bus().Subscribe("feature_windows:edgar")
		if err != nil {
			return err
		}
		pipe = p
		return nil
	}
	sum, err := engine.RunLive(context.Background(), engine.RunOptions{Profile: prof, Started: started,
		Now: func() time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	defer actors.Stop()
	if sum.Ticks != 20000 || sum.Edgar == nil || sum.Edgar.Docs != 12 || sum.Edgar.Partitions != 3 || sum.Edgar.Journal == nil {
		t.Fatalf("summary: ticks %d, edgar %+v", sum.Ticks, sum.Edgar)
	}
	if !strings.HasSuffix(sum.Edgar.Journal.Dir, "-edgar") || !runjournal.IsJournal(sum.Edgar.Journal.Dir) || !edgar.IsJournal(sum.Edgar.Journal.Dir) {
		t.Fatalf("edgar journal %s", sum.Edgar.Journal.Dir)
	}
	var flows int
	for _, n := range actors.Registry().Snapshot() {
		if strings.HasPrefix(n.Path, "engine/flow/edgar-") {
			flows++
			if len(n.Rings) != 1 || n.Rings[0].Name != "documents" {
				t.Fatalf("edgar flow node %+v", n)
			}
		}
	}
	if flows != 3 {
		t.Fatalf("%d edgar flow actors, want 3", flows)
	}
	select {
	case ev := <-sub.C():
		var w map[string]any
		if json.Unmarshal(ev.Data, &w) != nil || w["kind"] != "edgar" || w["recipe"] != "edgar" || w["provenance"] == nil {
			t.Fatalf("edgar window event %s", ev.Data)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no window on feature_windows:edgar")
	}
	mfs, err := pipe.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var docs float64
	for _, mf := range mfs {
		if mf.GetName() == "thunderline_flow_edgar_docs_total" {
			docs = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if docs != 12 {
		t.Fatalf("thunderline_flow_edgar_docs_total %v, want 12", docs)
	}
	// Same filings, same digests as the path run on its own.
	alone, err := engine.Replay(context.Background(), []string{edgarData}, engine.ReplayOptions{Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if alone.Edgar.WindowDigest != sum.Edgar.WindowDigest || alone.Edgar.TraceDigest != sum.Edgar.TraceDigest {
		t.Fatal("the filings path beside a market run gave other digests than alone")
	}
}
