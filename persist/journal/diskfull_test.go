package journal

import (
	"errors"
	"testing"

	"thunderline/persist/journal/smallfs"
)

// TestDiskFullRetries fills a real (tmpfs) filesystem under the journal:
// the write fails with ErrRetry, the journal is not failed, nothing that
// was acknowledged is lost, and once there is room again the held records
// are written — every record, in order, exactly once — with the torn
// blocks cut off so nothing else is on disk.
func TestDiskFullRetries(t *testing.T) {
	for _, c := range []struct {
		name    string
		segment int64
		block   int
	}{
		{"blocks", 1 << 20, 4096},            // the disk fills inside a segment
		{"rotations", MinSegmentBytes, 1024}, // and while segments rotate
		{"large-blocks", 1 << 20, 64 << 10},  // a block larger than the room left
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := smallfs.Mount(t, 256<<10)
			opts := Options{Dir: dir + "/j", SegmentBytes: c.segment, BlockBytes: c.block,
				Compression: CompressionNone, Fsync: FsyncNever}
			j := mustOpen(t, opts)
			var buf []byte
			full := 0
			for round := 0; round < 3; round++ {
				// Append until the disk is full.
				var failed error
				for failed == nil {
					kind, p := recordFor(j.Next(), buf)
					buf = p
					if _, err := j.Append(kind, p); err != nil {
						failed = err
					} else if j.Next()%97 == 0 {
						failed = j.Flush()
					}
				}
				if !errors.Is(failed, ErrRetry) {
					t.Fatalf("round %d: full disk gave %v, want an ErrRetry", round, failed)
				}
				if j.Err() != nil {
					t.Fatalf("round %d: journal failed: %v", round, j.Err())
				}
				full++
				acked, next := j.Acked(), j.Next()
				if acked > next {
					t.Fatalf("acked %d beyond next %d", acked, next)
				}
				// Still full: Flush keeps failing the same way.
				if err := j.Flush(); !errors.Is(err, ErrRetry) {
					t.Fatalf("round %d: Flush on a full disk: %v", round, err)
				}
				// Everything acknowledged so far reads back.
				if got := checkRead(t, opts.Dir, 0); got < acked {
					t.Fatalf("round %d: read %d records, %d were acknowledged", round, got, acked)
				}
				// Room again: the held records go out.
				smallfs.Resize(t, dir, int64(round+2)*512<<10)
				if err := j.Flush(); err != nil {
					t.Fatalf("round %d: Flush after room came back: %v", round, err)
				}
				if j.Acked() != j.Next() {
					t.Fatalf("round %d: after Flush acked %d, next %d", round, j.Acked(), j.Next())
				}
			}
			total := j.Next()
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if got := checkRead(t, opts.Dir, 0); got != total {
				t.Fatalf("read %d records back, wrote %d", got, total)
			}
			// Reopening finds no torn tail: the failed writes were cut off.
			j2 := mustOpen(t, opts)
			defer j2.Close()
			if rec := j2.Recovery(); rec.Torn || rec.Next != total {
				t.Fatalf("reopened: %+v, want next %d and no torn tail", rec, total)
			}
			if j.Stats().WriteRetries == 0 || full != 3 {
				t.Fatalf("retries %d, full %d", j.Stats().WriteRetries, full)
			}
		})
	}
}
