package journal

import (
	"errors"
	"testing"
	"time"

	"thunderline/persist/journal/smallfs"
)

// TestBackgroundWriter runs the writer tests again with the background
// writer (two compressors, three blocks in flight): the same records in
// the same order, the same acknowledgements, the same files.
func TestBackgroundWriter(t *testing.T) {
	background = true
	defer func() { background = false }()
	for name, f := range map[string]func(*testing.T){
		"RoundTrip": TestRoundTrip, "ReaderFollowsWriter": TestReaderFollowsWriter,
		"ConcurrentReader": TestConcurrentReader, "ReopenContinues": TestReopenContinues,
		"AppendErrors": TestAppendErrors, "LargeRecords": TestLargeRecords, "TornTail": TestTornTail,
		"AppendZeroAlloc": TestAppendZeroAlloc,
	} {
		t.Run(name, f)
	}
}

// TestBackgroundWaits: with every block in flight Append waits for one
// (counted), Submit does not wait for the disk, Flush does, and Sync
// fsyncs on the writer.
func TestBackgroundWaits(t *testing.T) {
	dir := t.TempDir()
	j := mustOpen(t, Options{Dir: dir, BlockBytes: 1024, Compressors: 1, InFlight: 2, Fsync: FsyncAlways})
	appendN(t, j, 5000, 0)
	if err := j.Submit(); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(); err != nil || j.Acked() != j.Next() {
		t.Fatalf("Flush: %v, acked %d of %d", err, j.Acked(), j.Next())
	}
	if err := j.Sync(); err != nil {
		t.Fatal(err)
	}
	st := j.Stats()
	if st.BlockWaits == 0 || st.Fsyncs < st.Blocks {
		t.Fatalf("stats %+v: want block waits, an fsync per block", st)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got := checkRead(t, dir, 0); got != 5000 {
		t.Fatalf("read %d records", got)
	}
}

// TestBackgroundDiskFull: the background writer meets a full (tmpfs) disk:
// it cuts the partial block off and retries, WriteErr says why, nothing is
// acknowledged out of order, and once there is room every record lands in
// order. Abort gives up a write that cannot succeed.
func TestBackgroundDiskFull(t *testing.T) {
	dir := smallfs.Mount(t, 256<<10)
	opts := Options{Dir: dir + "/j", SegmentBytes: 64 << 10, BlockBytes: 4096, Compression: CompressionNone,
		Fsync: FsyncNever, Compressors: 2, InFlight: 4, RetryInterval: 5 * time.Millisecond}
	j := mustOpen(t, opts)
	done := make(chan error, 1)
	go func() { // the appender blocks once every block is in flight
		var buf []byte
		for range 400_000 {
			kind, p := recordFor(j.Next(), buf)
			buf = p
			if _, err := j.Append(kind, p); err != nil {
				done <- err
				return
			}
			if j.WriteErr() != nil && j.Next()%50 == 0 {
				break
			}
		}
		done <- j.Flush()
	}()
	for j.WriteErr() == nil {
		select {
		case err := <-done:
			t.Fatalf("appender ended (%v) before the disk filled", err)
		default:
			time.Sleep(time.Millisecond)
		}
	}
	if !errors.Is(j.WriteErr(), ErrRetry) {
		t.Fatalf("WriteErr = %v", j.WriteErr())
	}
	smallfs.Resize(t, dir, 64<<20)
	if err := <-done; err != nil {
		t.Fatalf("after room came back: %v", err)
	}
	if j.WriteErr() != nil || j.Acked() != j.Next() {
		t.Fatalf("WriteErr %v, acked %d of %d", j.WriteErr(), j.Acked(), j.Next())
	}
	total := j.Next()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if got := checkRead(t, opts.Dir, 0); got != total {
		t.Fatalf("read %d records back, wrote %d", got, total)
	}

	// Full again, and given up.
	used := int64(64<<20) - smallfs.Free(t, dir)
	smallfs.Resize(t, dir, used+256<<10)
	j = mustOpen(t, opts)
	for j.WriteErr() == nil {
		appendN(t, j, 100, 0)
		if err := j.Submit(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	j.Abort()
	err := j.Flush()
	if err == nil || errors.Is(err, ErrRetry) {
		t.Fatalf("Flush after Abort = %v, want the journal failed", err)
	}
	if cerr := j.Close(); cerr == nil {
		t.Fatal("Close after Abort succeeded")
	}
	if got := checkRead(t, opts.Dir, 0); got < total {
		t.Fatalf("read %d records after the abort, %d were acknowledged before", got, total)
	}
}
