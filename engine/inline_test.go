package engine

import (
	"context"
	"path/filepath"
	"testing"
)

// TestInlineStage: the decision stage run on the partition's goroutine
// (stage.inline) decides exactly what the stage on its own goroutine does —
// the same windows, labels and traces (digests) — with output rings as
// small as 2, which makes the partition drain them itself mid-batch; its
// journal verifies, on one partition and on three.
func TestInlineStage(t *testing.T) {
	const ticks = 60_000
	base := lateProfile + "partitions: 1\n"
	if p, _ := newSynthetic(t, testProfile(t, base+"stage: {inline: true}\n"), 10, Options{}); !p.inline {
		t.Fatal("stage.inline did not make the stage inline")
	}
	if p, _ := newSynthetic(t, testProfile(t, base+"stage: {inline: true}\n"), 10, Options{Partitions: 2}); p.inline {
		t.Fatal("an inline stage on 2 partitions")
	}
	for _, out := range []string{"", "rings: {output: 2}\n"} {
		sep := runSynthetic(t, testProfile(t, base+out), ticks, 0, "")
		dir := filepath.Join(t.TempDir(), "inline")
		inl := runSynthetic(t, testProfile(t, base+out+"stage: {inline: true}\n"), ticks, 0, dir)
		if sep.Traces == 0 || inl.Traces != sep.Traces || inl.TraceDigest != sep.TraceDigest || inl.WindowDigest != sep.WindowDigest ||
			inl.LabelDigest != sep.LabelDigest {
			t.Fatalf("%q: inline %d traces %s/%s, own goroutine %d traces %s/%s", out, inl.Traces, inl.WindowDigest, inl.TraceDigest,
				sep.Traces, sep.WindowDigest, sep.TraceDigest)
		}
		// The warm-up on every idle poll (1 ns): the same decisions.
		// A partition ring of 2 makes the partition wait often (the reader
		// refills it two ticks at a time), so warm-ups run between batches.
		rings := "rings: {partition: 2}\n"
		if out != "" {
			rings = "rings: {partition: 2, output: 2}\n"
		}
		warm := runSynthetic(t, testProfile(t, base+rings+"stage: {inline: true, warm: 1ns}\n"), ticks, 0, "")
		if warm.TraceDigest != sep.TraceDigest || warm.WindowDigest != sep.WindowDigest || warm.Decisions == nil || warm.Decisions.Warmups == 0 {
			t.Fatalf("%q: warmed inline stage: traces %s (want %s), %+v", out, warm.TraceDigest, sep.TraceDigest, warm.Decisions)
		}
		// Each trace's latency is counted once: by a watermark's close or by
		// the end of the input (the run's last boundaries).
		if d := inl.Decisions; d.EndCount == 0 || d.LatencyCount+d.EndCount != inl.Traces {
			t.Fatalf("%q: %d traces, close→trace counted %d, at the end %d", out, inl.Traces, d.LatencyCount, d.EndCount)
		}
		if inl.Decisions.Warmups != 0 {
			t.Fatalf("%q: %d warm-ups without stage.warm", out, inl.Decisions.Warmups)
		}
		for _, parts := range []int{1, 3} {
			rep, err := Replay(context.Background(), []string{dir}, ReplayOptions{Verify: true, Partitions: parts})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Verify.OK() || rep.TraceDigest != inl.TraceDigest {
				t.Fatalf("%q: replay of the inline run's journal on %d partitions: %+v, %s", out, parts, rep.Verify, rep.TraceDigest)
			}
		}
	}
}
