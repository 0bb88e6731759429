package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"thunderline/actors/tree"
	"thunderline/engine/config"
	"thunderline/engine/runjournal"
	"thunderline/hotpath/record"
	"thunderline/profiles"
)

// TestReplayDBNSamples replays every DBN sample: record counts as the data
// README gives them (taken with an independent reader), the same digests
// twice and with 1 and 4 partitions.
func TestReplayDBNSamples(t *testing.T) {
	want := map[string]struct {
		rtype   string
		records uint64
	}{
		"esh4-glbx-mdp3-20231224.mbo.dbn.zst":                      {"mbo", 8725},
		"futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst":  {"mbp-1", 2288},
		"futures_trades_2024-07-01T23-58_2024-07-02T00-02.dbn.zst": {"mbp-0", 120},
		"futures_definition.dbn.zst":                               {"instrument-def", 2},
	}
	for _, schema := range []string{"mbo", "mbp-1", "mbp-10", "tbbo", "trades", "definition"} {
		rt := map[string]string{"mbo": "mbo", "mbp-1": "mbp-1", "mbp-10": "mbp-10", "tbbo": "mbp-1", "trades": "mbp-0", "definition": "instrument-def"}[schema]
		want["test_data."+schema+".dbn"] = struct {
			rtype   string
			records uint64
		}{rt, 2}
		want["test_data."+schema+".v3.dbn.zst"] = want["test_data."+schema+".dbn"]
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		if !strings.Contains(e.Name(), ".dbn") {
			continue
		}
		w, ok := want[e.Name()]
		if !ok {
			t.Errorf("%s: no expected counts", e.Name())
			continue
		}
		seen++
		path := filepath.Join(dataDir, e.Name())
		var digests []string
		for _, parts := range []int{1, 4, 1} {
			sum, err := Replay(context.Background(), []string{path}, ReplayOptions{Partitions: parts})
			if err != nil {
				t.Fatalf("%s: %v", e.Name(), err)
			}
			if got := sum.Records[w.rtype]; got != w.records {
				t.Errorf("%s: %d %s records, want %d (all: %v)", e.Name(), got, w.rtype, w.records, sum.Records)
			}
			if sum.Partitions != parts {
				t.Errorf("%s: %d partitions, want %d", e.Name(), sum.Partitions, parts)
			}
			var applied uint64
			for _, r := range sum.Rejects {
				applied += r
			}
			if sum.Applied+applied != sum.Ticks {
				t.Errorf("%s: applied %d + rejected %d != ticks %d", e.Name(), sum.Applied, applied, sum.Ticks)
			}
			if sum.Traces != sum.Windows {
				t.Errorf("%s: %d traces for %d windows", e.Name(), sum.Traces, sum.Windows)
			}
			digests = append(digests, sum.WindowDigest+"/"+sum.LabelDigest+"/"+sum.TraceDigest)
		}
		if digests[0] != digests[1] || digests[0] != digests[2] {
			t.Errorf("%s: digests differ across replays and partition counts: %v", e.Name(), digests)
		}
	}
	if seen != len(want) {
		t.Errorf("replayed %d samples, expected %d", seen, len(want))
	}
}

// TestReplayDBNFigures pins what the real captures give, so that a change of
// any hash or count shows up as a failing test (a breaking change).
func TestReplayDBNFigures(t *testing.T) {
	sum, err := Replay(context.Background(), []string{filepath.Join(dataDir, "futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst")}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 2,288 MBP-1 records, of which 120 are trades: a quote tick each and a
	// trade tick for each trade.
	if sum.Ticks != 2288+120 || len(sum.Symbols) != 1 || sum.Symbols[0].Symbol != "ESU4" {
		t.Fatalf("ticks %d symbols %+v", sum.Ticks, sum.Symbols)
	}
	if sum.Windows == 0 || sum.LabelsFilled == 0 || sum.Windows != sum.LabelsFilled+sum.LabelsOpen {
		t.Fatalf("windows %d, labels %d filled + %d open", sum.Windows, sum.LabelsFilled, sum.LabelsOpen)
	}
}

// TestDigestIndependentOfPartitions: the same feed through 1, 2 and 5
// partitions gives the same window and label digests.
func TestDigestIndependentOfPartitions(t *testing.T) {
	prof := testProfile(t, lateProfile)
	base := runSynthetic(t, prof, 300_000, 1, "")
	if base.Windows == 0 || base.LabelsFilled == 0 || len(base.Rejects) == 0 || base.Traces != base.Windows ||
		base.Decisions.Actions["buy"] == 0 || base.Decisions.Actions["sell"] == 0 {
		t.Fatalf("feed too tame to test anything: %+v", base)
	}
	for _, parts := range []int{2, 5} {
		s := runSynthetic(t, prof, 300_000, parts, "")
		if s.WindowDigest != base.WindowDigest || s.LabelDigest != base.LabelDigest || s.Windows != base.Windows ||
			s.TraceDigest != base.TraceDigest || s.Traces != base.Traces {
			t.Fatalf("%d partitions: digests %s/%s/%s, 1 partition %s/%s/%s", parts, s.WindowDigest, s.LabelDigest, s.TraceDigest,
				base.WindowDigest, base.LabelDigest, base.TraceDigest)
		}
	}
}

// TestJournalReplayVerify: a run journals; replaying the journal with
// --verify re-derives every window and label with the recorded hashes,
// with any partition count; a tampered recorded hash is caught.
func TestJournalReplayVerify(t *testing.T) {
	prof := testProfile(t, lateProfile)
	dir := filepath.Join(t.TempDir(), "run")
	run := runSynthetic(t, prof, 200_000, 2, dir)
	if run.Journal == nil || run.Journal.Acked != run.Journal.Records || run.Journal.Records < run.Ticks {
		t.Fatalf("journal %+v for %d ticks", run.Journal, run.Ticks)
	}
	for _, parts := range []int{1, 3} {
		sum, err := Replay(context.Background(), []string{dir}, ReplayOptions{Verify: true, Partitions: parts})
		if err != nil {
			t.Fatalf("verify with %d partitions: %v", parts, err)
		}
		v := sum.Verify
		if !v.OK() || v.WindowsChecked != run.Windows || v.LabelsChecked != run.LabelsFilled || v.RecordedWindows != run.Windows ||
			v.TracesChecked != run.Traces || v.RecordedTraces != run.Traces || run.Traces == 0 {
			t.Fatalf("verify %+v, run windows %d labels %d", v, run.Windows, run.LabelsFilled)
		}
		if sum.WindowDigest != run.WindowDigest || sum.Ticks != run.Ticks {
			t.Fatalf("replay digest %s ticks %d, run %s %d", sum.WindowDigest, sum.Ticks, run.WindowDigest, run.Ticks)
		}
		var rejects uint64
		for _, n := range sum.Rejects {
			rejects += n
		}
		if sum.Records["edge"] <= run.Traces || sum.Records["trace"] != run.Traces {
			t.Fatalf("traces or lineage edges not journaled: %v", sum.Records)
		}
		if sum.Records["reject"] == 0 || rejects == 0 {
			t.Fatalf("rejects were not journaled: records %v", sum.Records)
		}
	}

	// Tamper with one recorded window hash: the verifier names it.
	rec, err := LoadRecorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	for id, h := range rec.Windows {
		h[0] ^= 1
		rec.Windows[id] = h
		break
	}
	syms := record.NewSymbols()
	src, meta, err := openJournal(dir, syms)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rprof, err := runjournal.DecodeMeta(meta, dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Profile: rprof, Symbols: syms, Verify: rec})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Verify.OK() || sum.Verify.Mismatches != 1 || sum.Verify.First[0].What != "window" || sum.Verify.First[0].Recorded == "" {
		t.Fatalf("tampered hash not caught: %+v", sum.Verify)
	}

}

func TestReplayBadInputs(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.dbn")
	os.WriteFile(garbage, []byte("DBN\x02this is not a dbn file at all, just bytes"), 0o644)
	_, err := Replay(context.Background(), []string{garbage}, ReplayOptions{})
	if err == nil || !strings.Contains(err.Error(), "garbage.dbn") {
		t.Fatalf("garbage input: %v", err)
	}
	// A truncated real file: the records before the cut are still replayed.
	b, _ := os.ReadFile(filepath.Join(dataDir, "test_data.mbp-10.dbn"))
	cut := filepath.Join(dir, "cut.dbn")
	os.WriteFile(cut, b[:len(b)-100], 0o644)
	sum, err := Replay(context.Background(), []string{cut}, ReplayOptions{})
	if err == nil || sum == nil || sum.Ticks != 10 {
		t.Fatalf("truncated input: err %v, summary %+v", err, sum)
	}
	if _, err := Replay(context.Background(), []string{filepath.Join(dir, "missing.dbn")}, ReplayOptions{}); err == nil {
		t.Fatal("missing file replayed")
	}
	if _, err := Replay(context.Background(), []string{filepath.Join(dir, "notes.txt")}, ReplayOptions{}); err == nil {
		t.Fatal("unknown input kind replayed")
	}
	if _, err := Replay(context.Background(), []string{dir}, ReplayOptions{}); err == nil {
		t.Fatal("a directory that is no journal replayed")
	}
}

// TestReplayFilings: replay takes filing directories and EDGAR journals to
// the filings path: a directory replayed into a journal, then the journal
// replayed with --verify, re-derives the digests the first run recorded.
func TestReplayFilings(t *testing.T) {
	ctx := context.Background()
	jdir := filepath.Join(t.TempDir(), "j")
	first, err := Replay(ctx, []string{edgarData}, ReplayOptions{JournalDir: jdir, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	again, err := Replay(ctx, []string{jdir}, ReplayOptions{Verify: true, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if first.Edgar == nil || first.Edgar.Journal == nil || first.Ticks != 0 || again.Edgar == nil || !again.Edgar.Verify.Equal ||
		again.Edgar.WindowDigest != first.Edgar.WindowDigest || again.Edgar.Docs != 12 || again.Inputs[0] != jdir {
		t.Fatalf("filings %+v, then its journal %+v", first.Edgar, again.Edgar)
	}
	if _, err := Replay(ctx, []string{jdir, edgarData}, ReplayOptions{}); err == nil {
		t.Fatal("a journal and a filing directory replayed together")
	}
}

// TestRouterProfiles: each shipped router config (the seed's 16/12/8 one
// among them) builds, decides every window, and gives the same trace digest
// with 1 and 3 partitions.
func TestRouterProfiles(t *testing.T) {
	for _, name := range []string{"router/default.yaml", "router/moe-16-12-8.yaml"} {
		b, err := profiles.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := config.ParseRouter(b, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		prof := testProfile(t, lateProfile)
		prof.Router = *rc
		var digests []string
		for _, parts := range []int{1, 3} {
			s := runSynthetic(t, prof, 60_000, parts, "")
			if s.Traces != s.Windows || s.Traces == 0 || s.Decisions.RouterVersion != rc.WithDefaults().Version {
				t.Fatalf("%s: %d traces for %d windows (router v%d)", name, s.Traces, s.Windows, s.Decisions.RouterVersion)
			}
			digests = append(digests, s.TraceDigest)
		}
		if digests[0] != digests[1] {
			t.Fatalf("%s: trace digest depends on partitions: %v", name, digests)
		}
	}
	// The default router file is what a profile without a router section runs.
	b, _ := profiles.Get("router/default.yaml")
	rc, _ := config.ParseRouter(b, "default")
	prof := testProfile(t, lateProfile)
	withFile := prof
	withFile.Router = *rc
	a := runSynthetic(t, prof, 30_000, 1, "")
	c := runSynthetic(t, withFile, 30_000, 1, "")
	if a.TraceDigest != c.TraceDigest {
		t.Fatal("router/default.yaml differs from the built-in default router")
	}
}

// TestReloadRouterWhileRunning swaps router versions into a running,
// journaling pipeline: the run ends on a later version, a stale version is
// refused, and replaying the journal with --verify re-derives every trace
// (the swaps are journaled in band and happen at the same batches).
func TestReloadRouterWhileRunning(t *testing.T) {
	prof := testProfile(t, lateProfile)
	dir := filepath.Join(t.TempDir(), "run")
	p, src := newSynthetic(t, prof, 250_000, Options{JournalDir: dir})
	done := make(chan error, 1)
	go func() {
		var err error
		for v := uint64(2); v <= 6 && err == nil; v++ {
			rc := prof.Router
			rc.Version, rc.Seed = v, v*11
			err = p.ReloadRouter(rc)
			time.Sleep(10 * time.Millisecond)
		}
		if err == nil {
			rc := prof.Router
			rc.Version = 3
			if p.ReloadRouter(rc) == nil {
				err = errors.New("a stale version was accepted")
			}
		}
		done <- err
	}()
	sum, err := p.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sum.Decisions.RouterVersion < 2 {
		t.Fatalf("still on version %d after reloads", sum.Decisions.RouterVersion)
	}
	for _, parts := range []int{1, 3} {
		rs, err := Replay(context.Background(), []string{dir}, ReplayOptions{Verify: true, Partitions: parts})
		if err != nil {
			t.Fatalf("verify after reloads (%d partitions): %v", parts, err)
		}
		if rs.TraceDigest != sum.TraceDigest || rs.Decisions.RouterVersion != sum.Decisions.RouterVersion || rs.Records["control"] < 1 || rs.Records["router"] < 1 {
			t.Fatalf("replay: digest %s v%d records %v; run %s v%d", rs.TraceDigest, rs.Decisions.RouterVersion, rs.Records, sum.TraceDigest, sum.Decisions.RouterVersion)
		}
	}
}

// TestPartitionCrashRestarts: a panic injected into a partition restarts
// that partition alone; it rebuilds from the journal and the run ends as if
// nothing happened: same digests as an undisturbed run, every window,
// label, reject and trace journaled exactly once, and the journal verifies.
func TestPartitionCrashRestarts(t *testing.T) {
	prof := testProfile(t, lateProfile)
	base := runSynthetic(t, prof, 150_000, 2, "")

	dir := filepath.Join(t.TempDir(), "run")
	p, src := newSynthetic(t, prof, 150_000, Options{Partitions: 2, JournalDir: dir})
	// Under the actor tree: flow actors decide the restart.
	tr, err := p.StartTree(tree.Options{}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	// The tick goes to one of the two partitions: arm both.
	p.InjectPartitionPanic(0, 60_000)
	p.InjectPartitionPanic(1, 60_000)
	sum, err := p.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	restarts := p.PartitionStatus(0).Restarts + p.PartitionStatus(1).Restarts
	if restarts != 1 {
		t.Fatalf("%d restarts, want 1", restarts)
	}
	var treeRestarts uint64
	for _, n := range tr.Registry().Snapshot() {
		if strings.HasPrefix(n.Path, "engine/flow/") {
			treeRestarts += n.Restarts
			if n.Status != "running" || (n.Restarts == 1 && !strings.Contains(n.LastError, "injected fault")) {
				t.Fatalf("flow actor after the restart: %+v", n)
			}
		}
	}
	if treeRestarts != 1 {
		t.Fatalf("the actor tree shows %d restarts", treeRestarts)
	}
	if sum.WindowDigest != base.WindowDigest || sum.LabelDigest != base.LabelDigest || sum.TraceDigest != base.TraceDigest ||
		sum.Windows != base.Windows || sum.Traces != base.Traces {
		t.Fatalf("after a crash: windows %d traces %d %s; undisturbed %d %d %s", sum.Windows, sum.Traces, sum.TraceDigest,
			base.Windows, base.Traces, base.TraceDigest)
	}
	rec, err := LoadRecorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kinds["window"] != uint64(len(rec.Windows)) || uint64(len(rec.Windows)) != base.Windows ||
		rec.Kinds["trace"] != base.Traces || rec.Kinds["label"] != base.LabelsFilled {
		t.Fatalf("journal: %v records, %d distinct windows; want %d windows, %d traces, %d labels once each",
			rec.Kinds, len(rec.Windows), base.Windows, base.Traces, base.LabelsFilled)
	}
	var rejects uint64
	for _, n := range base.Rejects {
		rejects += n
	}
	for _, n := range base.Anomalies {
		rejects += n
	}
	if rec.Rejects != rejects {
		t.Fatalf("journal has %d rejects, the undisturbed run %d", rec.Rejects, rejects)
	}
	if _, err := Replay(context.Background(), []string{dir}, ReplayOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
}

// TestExpertPanicUnderTree: a panic injected into an expert while the engine
// runs under its actor tree: decisions go on, the expert's bolt restarts it
// (visible in the tree), and the journal has one trace per window, no gap
// and no duplicate.
func TestExpertPanicUnderTree(t *testing.T) {
	prof := testProfile(t, strings.Replace(lateProfile, "feed: {synthetic: {symbols: 40,", "feed: {pace: realtime, synthetic: {rate: 50000, symbols: 8,", 1))
	dir := filepath.Join(t.TempDir(), "run")
	p, src := newSynthetic(t, prof, 60_000, Options{JournalDir: dir, Pacing: PaceRealtime})
	tr, err := p.StartTree(tree.Options{Cadence: 10 * time.Millisecond}, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	momentum := p.stage.Current().Layers[0].Experts[0]
	go func() {
		for p.nTraces.Load() < 50 {
			time.Sleep(time.Millisecond)
		}
		momentum.InjectPanic()
	}()
	sum, err := p.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	gs := momentum.Stats()
	if gs.Panics != 1 || gs.Restarts != 1 || gs.Failed {
		t.Fatalf("expert after the panic: %+v", gs)
	}
	var bolt tree.NodeStatus
	for _, n := range tr.Registry().Snapshot() {
		if n.Path == "engine/chief/bolt/0.momentum" {
			bolt = n
		}
	}
	if bolt.Restarts != 1 || bolt.Status != "running" {
		t.Fatalf("the tree shows %+v", bolt)
	}
	rec, err := LoadRecorded(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kinds["trace"] != sum.Windows || uint64(len(rec.Traces)) != sum.Windows || rec.Kinds["window"] != sum.Windows {
		t.Fatalf("journal: %v (%d distinct traces) for %d windows", rec.Kinds, len(rec.Traces), sum.Windows)
	}
}
