package engine

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"thunderline/engine/config"
	"thunderline/engine/runjournal"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

type rawRecord struct {
	kind    uint8
	payload []byte
}

func readRecords(t *testing.T, dir string) []rawRecord {
	t.Helper()
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []rawRecord
	for {
		kind, _, p, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rawRecord{kind, append([]byte(nil), p...)})
	}
}

// writeCut writes recs as the journal of a run that died after the last of
// them was acknowledged. With torn, more records follow in a block the
// "crash" tore in half, as a write cut short leaves it.
func writeCut(t *testing.T, dir string, recs, more []rawRecord, torn bool) {
	t.Helper()
	j, err := journal.Open(journal.Options{Dir: dir, BlockBytes: 4096, Compression: journal.CompressionZstd, Fsync: journal.FsyncNever})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := j.Append(r.kind, r.payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, filepath.Base(lastSegment(t, dir)))
	st, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	whole := st.Size()
	if torn {
		for _, r := range more {
			if _, err := j.Append(r.kind, r.payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if torn {
		st, _ := os.Stat(seg)
		if st.Size() > whole {
			if err := os.Truncate(seg, whole+(st.Size()-whole)/2); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no segment in %s: %v", dir, err)
	}
	last := ""
	for _, f := range m {
		if filepath.Base(f) != "LOCK" && f > last {
			last = f
		}
	}
	return last
}

// checkInputsFirst fails the test if any output of the journal precedes
// an input it depends on: a window before its last tick or before the
// tick whose watermark closed it, a label or trace before its window, a
// reject before its tick.
func checkInputsFirst(t *testing.T, prof *config.Profile, recs []rawRecord) {
	t.Helper()
	wc, err := prof.WindowConfig()
	if err != nil {
		t.Fatal(err)
	}
	lastTick := 0
	for i, r := range recs {
		if r.kind == runjournal.RecTick {
			lastTick = i
		}
	}
	wm := partition.NewWatermark(wc.Step(), int64(wc.Lateness))
	var mark int64 = -1 << 63
	var newest uint64
	windows := map[[16]byte]bool{}
	var tick record.MarketTick
	for i, r := range recs {
		switch r.kind {
		case runjournal.RecTick:
			if err := record.DecodeTick(r.payload, &tick); err != nil {
				t.Fatal(err)
			}
			newest = max(newest, tick.InSeq)
			if m, ok := wm.Advance(tick.TsEvent); ok {
				mark = m
			}
		case runjournal.RecWindow:
			d, err := window.DecodeWindowRecord(r.payload)
			if err != nil {
				t.Fatal(err)
			}
			w := &d.Window
			if w.LastInSeq > newest {
				t.Fatalf("record %d: window %s holds tick %d, journaled only up to tick %d", i, window.FormatUUID(w.ID), w.LastInSeq, newest)
			}
			if w.End > mark && i < lastTick {
				t.Fatalf("record %d: window %s ends at %d, past the watermark %d of the ticks before it", i, window.FormatUUID(w.ID), w.End, mark)
			}
			windows[w.ID] = true
		case runjournal.RecLabel:
			d, err := window.DecodeLabel(r.payload)
			if err != nil {
				t.Fatal(err)
			}
			if !windows[d.Label.WindowID] {
				t.Fatalf("record %d: label before its window %s", i, window.FormatUUID(d.Label.WindowID))
			}
		case runjournal.RecTrace:
			d, err := decide.DecodeTraceRecord(r.payload)
			if err != nil {
				t.Fatal(err)
			}
			if !windows[d.Trace.WindowID] {
				t.Fatalf("record %d: trace before its window %s", i, window.FormatUUID(d.Trace.WindowID))
			}
		case runjournal.RecReject:
			var rj record.Reject
			if err := record.DecodeReject(r.payload, &rj); err != nil {
				t.Fatal(err)
			}
			if rj.Tick.InSeq > newest {
				t.Fatalf("record %d: reject of tick %d, journaled only up to tick %d", i, rj.Tick.InSeq, newest)
			}
		}
	}
}

// TestCutJournalsVerify: a run's journal cut at 20 random record
// boundaries — what a run killed there leaves, a prefix of its records in
// whole blocks, sometimes with a torn block after them — replays with
// --verify passing for everything it holds, the cut reported, and what the
// cut run had not journaled counted apart as unfinished. No output in the
// journal precedes its inputs.
func TestCutJournalsVerify(t *testing.T) {
	prof := testProfile(t, lateProfile)
	dir := filepath.Join(t.TempDir(), "run")
	runSynthetic(t, prof, 60_000, 3, dir)
	recs := readRecords(t, dir)
	if recs[len(recs)-1].kind != runjournal.RecEnd {
		t.Fatalf("the finished run's journal ends in a %s record", runjournal.KindName(recs[len(recs)-1].kind))
	}
	checkInputsFirst(t, prof, recs)

	rng := rand.New(rand.NewPCG(15, 20))
	unfinished := 0
	for i := range 20 {
		k := 2 + rng.IntN(len(recs)-3) // the meta record at least; never the end record
		torn := i%3 == 0
		cut := filepath.Join(t.TempDir(), "cut")
		writeCut(t, cut, recs[:k], recs[k:min(len(recs), k+200)], torn)
		var windows, traces uint64
		held := readRecords(t, cut) // k records, and any whole blocks of the torn tail's
		if len(held) < k {
			t.Fatalf("cut at %d holds %d records", k, len(held))
		}
		for _, r := range held {
			switch r.kind {
			case runjournal.RecWindow:
				windows++
			case runjournal.RecTrace:
				traces++
			}
		}
		sum, err := Replay(context.Background(), []string{cut}, ReplayOptions{Verify: true, Partitions: 1 + i%3})
		if err != nil {
			t.Fatalf("cut %d at record %d of %d: %v (verify %+v)", i, k, len(recs), err, sum.Verify)
		}
		v := sum.Verify
		if !v.OK() || v.RecordedWindows != windows || v.RecordedTraces != traces {
			t.Fatalf("cut at record %d: verify %+v; the cut holds %d windows, %d traces", k, v, windows, traces)
		}
		if c := sum.Cut; c == nil || c.EndRecord || (torn && c.TornBytes == 0) || (!torn && c.TornBytes != 0) {
			t.Fatalf("cut at record %d (torn %v) reported as %+v", k, torn, c)
		}
		if v.Unfinished != nil {
			unfinished++
		}
	}
	if unfinished == 0 {
		t.Fatal("no cut left anything unfinished: the cuts test nothing")
	}
	// The whole journal: no cut, nothing unfinished.
	sum, err := Replay(context.Background(), []string{dir}, ReplayOptions{Verify: true})
	if err != nil || sum.Cut != nil || sum.Verify.Unfinished != nil {
		t.Fatalf("finished journal: %v, cut %+v, verify %+v", err, sum.Cut, sum.Verify)
	}
}
