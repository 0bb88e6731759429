package journal

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOptions(t *testing.T) {
	f := func(name string, mutate func(*Options), wantField string) {
		t.Helper()
		o := Options{Dir: t.TempDir()}
		mutate(&o)
		err := o.WithDefaults().Validate()
		if wantField == "" {
			if err != nil {
				t.Errorf("%s: Validate: %v", name, err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), "Options."+wantField+":") {
			t.Errorf("%s: Validate = %v, want an error naming %s", name, err, wantField)
		}
		if _, err := Open(o); err == nil {
			t.Errorf("%s: Open accepted invalid options", name)
		}
	}
	f("defaults", func(o *Options) {}, "")
	f("no dir", func(o *Options) { o.Dir = "" }, "Dir")
	f("small segment", func(o *Options) { o.SegmentBytes = 100 }, "SegmentBytes")
	f("small block", func(o *Options) { o.BlockBytes = 10 }, "BlockBytes")
	f("huge block", func(o *Options) { o.BlockBytes = MaxBlockBytes + 1 }, "BlockBytes")
	f("compression", func(o *Options) { o.Compression = "lz4" }, "Compression")
	f("level", func(o *Options) { o.Level = 5 }, "Level")
	f("fsync", func(o *Options) { o.Fsync = "sometimes" }, "Fsync")
	f("interval", func(o *Options) { o.FsyncInterval = -time.Second }, "FsyncInterval")
	f("none, level 4", func(o *Options) { o.Compression = CompressionNone; o.Level = 4 }, "")
	f("compressors", func(o *Options) { o.Compressors = -1 }, "Compressors")
	f("many compressors", func(o *Options) { o.Compressors = MaxCompressors + 1 }, "Compressors")
	f("in flight", func(o *Options) { o.InFlight = MaxInFlight + 1 }, "InFlight")
	f("retry", func(o *Options) { o.RetryInterval = -time.Second }, "RetryInterval")
	f("background", func(o *Options) { o.Compressors = 2; o.InFlight = 8 }, "")

	d := Options{}.WithDefaults()
	if d.SegmentBytes != 64<<20 || d.BlockBytes != 64<<10 || d.Compression != "zstd" || d.Level != 1 ||
		d.Fsync != FsyncInterval || d.FsyncInterval != 50*time.Millisecond || d.Logger == nil {
		t.Errorf("WithDefaults = %+v", d)
	}
}

func TestSegmentName(t *testing.T) {
	for _, off := range []Offset{0, 1, 12345, 1<<64 - 1} {
		name := segmentName(off)
		if len(name) != segmentNameLen {
			t.Errorf("segmentName(%d) = %q", off, name)
		}
		got, ok := parseSegmentName(name)
		if !ok || got != off {
			t.Errorf("parseSegmentName(%q) = %d, %v", name, got, ok)
		}
	}
	for _, bad := range []string{"", "LOCK", "0000000000000000000a.tlj", "00000000000000000000.tlx",
		"0000000000000000000.tlj", "99999999999999999999.tlj"} {
		if _, ok := parseSegmentName(bad); ok {
			t.Errorf("parseSegmentName(%q) accepted", bad)
		}
	}
}

// TestRoundTrip writes across many blocks and several segments and reads
// back from every kind of starting point.
func TestRoundTrip(t *testing.T) {
	for _, comp := range allCompressions {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			j := mustOpen(t, testOptions(dir, comp))
			if rec := j.Recovery(); !rec.Created || rec.Next != 0 || rec.Torn {
				t.Fatalf("Recovery of a new journal = %+v", rec)
			}
			// Flushes at odd moments make blocks of every size.
			appendN(t, j, 1500, 37)
			appendN(t, j, 1500, 0)
			appendN(t, j, 17, 1)
			const total = 3017
			if err := j.Flush(); err != nil {
				t.Fatal(err)
			}
			st := j.Stats()
			if st.Records != total || st.Blocks < 50 || st.Fsyncs != 0 {
				t.Errorf("Stats = %+v", st)
			}
			// s2 has no entropy coder: on these random letters it only
			// wins on the blocks with a large repetitive record.
			if comp != CompressionNone && st.CompressedBlocks == 0 {
				t.Errorf("%s: Stats = %+v, want compressed blocks", comp, st)
			}
			if comp == CompressionZstd && st.StoredBytes >= st.RawBytes {
				t.Errorf("zstd: Stats = %+v, want fewer stored bytes", st)
			}
			if comp == CompressionNone && st.CompressedBlocks != 0 {
				t.Errorf("none: %d compressed blocks", st.CompressedBlocks)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); !errors.Is(err, ErrClosed) {
				t.Errorf("second Close = %v, want ErrClosed", err)
			}
			if _, err := j.Append(1, []byte("x")); !errors.Is(err, ErrClosed) {
				t.Errorf("Append after Close = %v, want ErrClosed", err)
			}

			segs := segmentFiles(t, dir)
			if len(segs) < 4 {
				t.Fatalf("%d segments, want several: %v", len(segs), segs)
			}
			third, _ := parseSegmentName(segs[2])
			// Find an offset in the middle of a block.
			mid := Offset(1500 + 37*3 + 5)
			for _, from := range []Offset{0, 1, mid, third, third + 3, total - 1, total, total + 10} {
				if got := checkRead(t, dir, from); got != max(from, total) {
					t.Errorf("read from %d ended at %d, want %d", from, got, max(from, total))
				}
			}
		})
	}
}

// TestReaderFollowsWriter interleaves writes and reads in one goroutine:
// the reader picks up new blocks and new segments after io.EOF, and
// SetLimit stops it at the acknowledged offset.
func TestReaderFollowsWriter(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, testOptions(dir, CompressionZstd))
	defer j.Close()
	r, err := NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var e expected
	readToEOF := func() {
		t.Helper()
		for {
			kind, off, p, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			e.check(t, kind, off, p)
		}
	}
	readToEOF()
	if e.next != 0 {
		t.Fatalf("read %d records from an empty journal", e.next)
	}
	for round := 0; round < 20; round++ {
		appendN(t, j, 150, 0) // unflushed records in the open block are not visible
		acked := j.Acked()    // a background writer may acknowledge more meanwhile
		r.SetLimit(acked)
		readToEOF()
		if e.next != acked {
			t.Fatalf("round %d: reader at %d, acked %d", round, e.next, acked)
		}
		if err := j.Flush(); err != nil {
			t.Fatal(err)
		}
		r.SetLimit(j.Acked())
		readToEOF()
		if e.next != j.Next() {
			t.Fatalf("round %d: reader at %d after Flush, next %d", round, e.next, j.Next())
		}
	}
	if n := len(segmentFiles(t, dir)); n < 3 {
		t.Fatalf("only %d segments", n)
	}
}

// TestConcurrentReader runs the writer and a tailing reader in two
// goroutines (for the race detector): the reader gets every record.
func TestConcurrentReader(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, testOptions(dir, CompressionZstd))
	const total = 4000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var buf []byte
		for i := 0; i < total; i++ {
			kind, p := recordFor(j.Next(), buf)
			buf = p
			if _, err := j.Append(kind, p); err != nil {
				t.Errorf("Append: %v", err)
				return
			}
			if i%50 == 49 {
				if err := j.Flush(); err != nil {
					t.Errorf("Flush: %v", err)
					return
				}
			}
		}
		if err := j.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	r, err := NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	deadline := time.Now().Add(time.Minute)
	var e expected
	for e.next < total {
		_ = j.Stats() // safe from another goroutine
		// Without a limit the reader may see a block written but not yet
		// acknowledged (under "always", not yet fsynced).
		acked := j.Acked()
		r.SetLimit(acked)
		kind, off, p, err := r.Next()
		if err == io.EOF {
			if time.Now().After(deadline) {
				t.Fatalf("reader stuck at %d", e.next)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if off >= acked {
			t.Fatalf("read record %d past the limit %d", off, acked)
		}
		e.check(t, kind, off, p)
	}
	wg.Wait()
}

func TestReopenContinues(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, CompressionZstd)
	var want Offset
	for i := 0; i < 4; i++ {
		j := mustOpen(t, opts)
		rec := j.Recovery()
		if rec.Next != want || rec.Torn || j.Next() != want || j.Acked() != want || rec.Created != (i == 0) {
			t.Fatalf("reopen %d: Recovery %+v, Next %d, want next %d", i, rec, j.Next(), want)
		}
		appendN(t, j, 700, 0) // Close flushes the open block
		want += 700
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		opts.Compression = allCompressions[(i+1)%len(allCompressions)] // blocks of every codec in one journal
	}
	if got := checkRead(t, dir, 0); got != want {
		t.Fatalf("read %d records, want %d", got, want)
	}
	// VerifyAll checks every segment.
	opts.VerifyAll = true
	j := mustOpen(t, opts)
	if rec := j.Recovery(); rec.Next != want || rec.Segments < 3 {
		t.Fatalf("VerifyAll Recovery = %+v", rec)
	}
	j.Close()
}

func TestAppendErrors(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, testOptions(dir, CompressionZstd))
	defer j.Close()
	if _, err := j.Append(0, []byte("x")); !errors.Is(err, ErrInvalidKind) {
		t.Errorf("kind 0: %v", err)
	}
	if _, err := j.Append(1, make([]byte, MaxPayload+1)); !errors.Is(err, ErrPayloadTooLarge) {
		t.Errorf("payload over limit: %v", err)
	}
	if j.Next() != 0 {
		t.Errorf("refused records took offsets: Next = %d", j.Next())
	}
	if _, err := Open(testOptions(dir, CompressionZstd)); !errors.Is(err, ErrLocked) {
		t.Errorf("second writer: %v, want ErrLocked", err)
	}
	// Refused records do not fail the journal.
	appendN(t, j, 3, 1)
}

// TestLargeRecords: a record larger than the block goes in a block of its
// own, up to MaxPayload, and an empty payload is fine.
func TestLargeRecords(t *testing.T) {
	for _, comp := range allCompressions {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			j := mustOpen(t, testOptions(dir, comp))
			payloads := [][]byte{
				[]byte("small"),
				bytes.Repeat([]byte("0123456789"), 500),
				{},
				make([]byte, MaxPayload),
				[]byte("after"),
			}
			for i := range payloads[3] {
				payloads[3][i] = byte(splitmix(uint64(i)))
			}
			for i, p := range payloads {
				if off, err := j.Append(uint8(i+1), p); err != nil || off != Offset(i) {
					t.Fatalf("Append %d: %d, %v", i, off, err)
				}
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if st := j.Stats(); st.Blocks != 5 {
				t.Errorf("%d blocks, want 5 (small, 5000 B, empty, 16 MiB, after)", st.Blocks)
			}
			r, err := NewReader(dir, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for i, want := range payloads {
				kind, off, p, err := r.Next()
				if err != nil || off != Offset(i) || kind != uint8(i+1) || !bytes.Equal(p, want) {
					t.Fatalf("record %d: off %d kind %d len %d err %v", i, off, kind, len(p), err)
				}
			}
			if _, _, _, err := r.Next(); err != io.EOF {
				t.Fatalf("after last: %v", err)
			}
		})
	}
}

func TestFsyncPolicies(t *testing.T) {
	f := func(policy FsyncPolicy, interval time.Duration, check func(st Stats) bool) {
		t.Helper()
		opts := testOptions(t.TempDir(), CompressionZstd)
		opts.Fsync, opts.FsyncInterval = policy, interval
		j := mustOpen(t, opts)
		appendN(t, j, 400, 20)
		st := j.Stats()
		if !check(st) {
			t.Errorf("%s/%v: Stats = %+v", policy, interval, st)
		}
		before := st.Fsyncs
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		wantClose := map[FsyncPolicy]uint64{FsyncAlways: 0, FsyncInterval: 1, FsyncNever: 0}[policy]
		if got := j.Stats().Fsyncs - before; got != wantClose {
			t.Errorf("%s: Close made %d fsyncs, want %d", policy, got, wantClose)
		}
	}
	// always: one per block, plus one per created segment.
	f(FsyncAlways, 0, func(st Stats) bool { return st.Fsyncs == st.Blocks+st.SegmentsCreated })
	// interval (never due): the header of each new segment, and the old
	// segment before each rotation.
	f(FsyncInterval, time.Hour, func(st Stats) bool { return st.Fsyncs == 2*st.SegmentsCreated-1 })
	f(FsyncNever, 0, func(st Stats) bool { return st.Fsyncs == 0 && st.SegmentsCreated > 1 })
	// Sync fsyncs whatever the policy.
	j := mustOpen(t, testOptions(t.TempDir(), CompressionNone))
	appendN(t, j, 3, 0)
	if err := j.Sync(); err != nil || j.Stats().Fsyncs != 1 || j.Acked() != 3 {
		t.Errorf("Sync: %v, Stats %+v, Acked %d", err, j.Stats(), j.Acked())
	}
	j.Close()
}

// TestAppendZeroAlloc: Append, including the sealing, compression and
// write of full blocks and Flush, does not allocate in steady state.
func TestAppendZeroAlloc(t *testing.T) {
	for _, comp := range allCompressions {
		t.Run(comp, func(t *testing.T) {
			if raceEnabled && comp == CompressionS2 {
				t.Skip("s2's encoder recycles its table through sync.Pool, which drops items under -race")
			}
			opts := testOptions(t.TempDir(), comp)
			opts.BlockBytes = 4096
			opts.SegmentBytes = 1 << 30 // rotation allocates a file name: not steady state
			j := mustOpen(t, opts)
			defer j.Close()
			recs := make([][]byte, 64)
			kinds := make([]uint8, 64)
			for i := range recs {
				kinds[i], recs[i] = recordFor(Offset(i+1), nil) // no oversized record
			}
			run := func() {
				// About 1.5 blocks: one sealed when full, one by Flush.
				for i := range 60 {
					if _, err := j.Append(kinds[i], recs[i]); err != nil {
						t.Fatal(err)
					}
				}
				if err := j.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			run()
			if a := testing.AllocsPerRun(200, run); a != 0 {
				t.Errorf("%v allocations per 60 Appends + Flush, want 0", a)
			}
			if j.Stats().Blocks < 400 {
				t.Errorf("only %d blocks written: sealing not exercised", j.Stats().Blocks)
			}
		})
	}
}

// TestReaderZeroAlloc: reading records of compressed blocks does not
// allocate once the buffers have grown.
func TestReaderZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("zstd's decoder recycles through sync.Pool, which drops items under -race")
	}
	dir := t.TempDir()
	opts := testOptions(dir, CompressionZstd)
	opts.SegmentBytes = 1 << 30
	j := mustOpen(t, opts)
	appendN(t, j, 20000, 0)
	j.Close()
	r, err := NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for range 300 { // grow the buffers, past the oversized records
		if _, _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	a := testing.AllocsPerRun(100, func() {
		for range 100 {
			if _, _, _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
	})
	if a != 0 {
		t.Errorf("%v allocations per 100 records read", a)
	}
}

func TestNewReaderErrors(t *testing.T) {
	if _, err := NewReader(t.TempDir(), 0); err == nil {
		t.Error("NewReader on an empty dir: no error")
	}
	dir := t.TempDir()
	j := mustOpen(t, testOptions(dir, CompressionNone))
	appendN(t, j, 2000, 0)
	j.Close()
	segs := segmentFiles(t, dir)
	if err := os.Remove(filepath.Join(dir, segs[0])); err != nil {
		t.Fatal(err)
	}
	second, _ := parseSegmentName(segs[1])
	if _, err := NewReader(dir, second-1); !errors.Is(err, ErrOffsetRemoved) {
		t.Errorf("NewReader before the first segment: %v", err)
	}
	if got := checkRead(t, dir, second); got != 2000 {
		t.Errorf("read from the first remaining segment ended at %d", got)
	}
	// The writer starts from the remaining segments.
	j = mustOpen(t, testOptions(dir, CompressionNone))
	if rec := j.Recovery(); rec.First != second || rec.Next != 2000 || rec.Records != uint64(2000-second) {
		t.Errorf("Recovery = %+v", rec)
	}
	j.Close()
	if !slices.Equal(segmentFiles(t, dir), segs[1:]) {
		t.Errorf("segments changed: %v", segmentFiles(t, dir))
	}
}
