package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// blockStarts returns the byte offset of every block in a segment file, and
// the file size.
func blockStarts(t testing.TB, path string) []int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var starts []int64
	var h blockHeader
	for pos := int64(fileHeaderSize); pos < int64(len(data)); pos += h.size() {
		if reason := decodeBlockHeader(data[pos:], &h); reason != "" {
			t.Fatalf("%s at %d: %s", path, pos, reason)
		}
		starts = append(starts, pos)
	}
	return starts
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTornTail cuts the last segment at every byte of its last block (and
// damages that block in other ways a crash can): Open keeps exactly the
// records of the complete blocks, reports the cut, and appending goes on
// from there.
func TestTornTail(t *testing.T) {
	for _, comp := range allCompressions {
		t.Run(comp, func(t *testing.T) {
			src := t.TempDir()
			opts := testOptions(src, comp)
			opts.SegmentBytes = 1 << 20 // one segment
			j := mustOpen(t, opts)
			appendN(t, j, 300, 0)
			if err := j.Flush(); err != nil {
				t.Fatal(err)
			}
			good := j.Acked()
			name := segmentName(0)
			path := filepath.Join(src, name)
			goodSize := fileSize(t, path)
			appendN(t, j, 7, 0) // the last block: 7 records
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			full, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(full)) <= goodSize+blockHeaderSize {
				t.Fatalf("last block too small: %d..%d", goodSize, len(full))
			}

			// recoverFrom opens a copy of the journal whose segment holds
			// data, and checks what Open reports and keeps.
			recoverFrom := func(what string, data []byte, wantTorn bool, wantNext Offset, wantSize int64, appendAfter bool) {
				t.Helper()
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, name), data)
				o := opts
				o.Dir = dir
				j, err := Open(o)
				if err != nil {
					t.Fatalf("%s: Open: %v", what, err)
				}
				rec := j.Recovery()
				if rec.Torn != wantTorn || rec.Next != wantNext || j.Next() != wantNext {
					t.Fatalf("%s: Recovery = %+v, want torn %v next %d", what, rec, wantTorn, wantNext)
				}
				if wantTorn && (rec.TornSegment != name || rec.TornAt != wantSize ||
					rec.TruncatedBytes != int64(len(data))-wantSize || rec.TornReason == "") {
					t.Fatalf("%s: Recovery = %+v, want cut at %d of %d", what, rec, wantSize, len(data))
				}
				if got := fileSize(t, filepath.Join(dir, name)); got != wantSize {
					t.Fatalf("%s: file is %d bytes after Open, want %d", what, got, wantSize)
				}
				if got := checkRead(t, dir, 0); got != wantNext {
					t.Fatalf("%s: read %d records, want %d", what, got, wantNext)
				}
				if appendAfter {
					appendN(t, j, 5, 0)
				}
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
				if appendAfter {
					if got := checkRead(t, dir, 0); got != wantNext+5 {
						t.Fatalf("%s: after append read %d records, want %d", what, got, wantNext+5)
					}
				}
			}

			all := Offset(307)
			recoverFrom("intact", full, false, all, int64(len(full)), true)
			for cut := goodSize; cut < int64(len(full)); cut++ {
				recoverFrom("cut at "+itoa(cut), full[:cut], cut != goodSize, good, goodSize, cut%17 == 0)
			}
			// Zeros where the last block should be (a power loss that kept
			// the size but not the data), whole or in part.
			for _, from := range []int64{goodSize, goodSize + 4, goodSize + blockHeaderSize, int64(len(full)) - 1} {
				data := append([]byte(nil), full...)
				clear(data[from:])
				recoverFrom("zeros from "+itoa(from), data, true, good, goodSize, true)
			}
			// A flipped bit in the last block's header or body.
			for _, at := range []int64{goodSize + 9, goodSize + 30, goodSize + blockHeaderSize + 3, int64(len(full)) - 1} {
				data := append([]byte(nil), full...)
				data[at] ^= 0x10
				recoverFrom("bit flip at "+itoa(at), data, true, good, goodSize, false)
			}
			// Garbage after the last complete block.
			data := append(append([]byte(nil), full...), "garbage that is no block header at all"...)
			recoverFrom("garbage after", data, true, all, int64(len(full)), true)
			// A torn file header (a crash while creating the first segment):
			// rewritten.
			for _, n := range []int{0, 1, 10, fileHeaderSize - 1} {
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, name), full[:n])
				o := opts
				o.Dir = dir
				j := mustOpen(t, o)
				rec := j.Recovery()
				if !rec.Torn || rec.TornAt != 0 || rec.TruncatedBytes != int64(n) || rec.Next != 0 {
					t.Fatalf("header cut at %d: Recovery = %+v", n, rec)
				}
				appendN(t, j, 5, 0)
				j.Close()
				if got := checkRead(t, dir, 0); got != 5 {
					t.Fatalf("header cut at %d: read %d records after append", n, got)
				}
			}
		})
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestTornNewSegment: a crash right after a rotation created the next
// segment leaves it empty or with a partial header; Open repairs it and
// the offsets go on.
func TestTornNewSegment(t *testing.T) {
	for _, n := range []int{0, 7, fileHeaderSize} {
		dir := t.TempDir()
		j := mustOpen(t, testOptions(dir, CompressionZstd))
		appendN(t, j, 500, 0)
		j.Close()
		next := j.Next()
		var hdr [fileHeaderSize]byte
		putFileHeader(hdr[:], next)
		writeFile(t, filepath.Join(dir, segmentName(next)), hdr[:n])
		j = mustOpen(t, testOptions(dir, CompressionZstd))
		rec := j.Recovery()
		if rec.Next != next || rec.Torn != (n < fileHeaderSize) || (rec.Torn && rec.TornSegment != segmentName(next)) {
			t.Fatalf("header of %d bytes: Recovery = %+v, want next %d", n, rec, next)
		}
		appendN(t, j, 10, 0)
		j.Close()
		if got := checkRead(t, dir, 0); got != next+10 {
			t.Fatalf("read %d, want %d", got, next+10)
		}
	}
}

// TestCorruptionNotAtTail: damage followed by good blocks, or in an
// earlier segment, is an error naming the segment and the byte offset, and
// Open changes nothing.
func TestCorruptionNotAtTail(t *testing.T) {
	// build makes a journal of several segments, each of several blocks.
	build := func(t *testing.T) (string, []string) {
		dir := t.TempDir()
		j := mustOpen(t, testOptions(dir, CompressionZstd))
		appendN(t, j, 1000, 0)
		// Small flushed blocks until the last segment holds four.
		for {
			appendN(t, j, 5, 5)
			segs := segmentFiles(t, dir)
			if len(blockStarts(t, filepath.Join(dir, segs[len(segs)-1]))) >= 4 {
				break
			}
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		segs := segmentFiles(t, dir)
		if len(segs) < 3 {
			t.Fatalf("want 3 segments or more, got %v", segs)
		}
		return dir, segs
	}
	flip := func(t *testing.T, path string, at int64) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data[at] ^= 0x01
		writeFile(t, path, data)
	}
	wantCorrupt := func(t *testing.T, what string, err error, seg string, pos int64) {
		t.Helper()
		var ce *CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: got %v, want a CorruptError", what, err)
		}
		if ce.Segment != seg || ce.Pos != pos {
			t.Fatalf("%s: error names %s at %d, want %s at %d: %v", what, ce.Segment, ce.Pos, seg, pos, err)
		}
		if !strings.Contains(err.Error(), seg) {
			t.Fatalf("%s: message does not name the segment: %v", what, err)
		}
	}
	readErr := func(dir string) error {
		r, err := NewReader(dir, 0)
		if err != nil {
			return err
		}
		defer r.Close()
		for {
			if _, _, _, err := r.Next(); err != nil {
				return err
			}
		}
	}

	t.Run("last segment, bad body, good blocks after", func(t *testing.T) {
		dir, segs := build(t)
		last := segs[len(segs)-1]
		path := filepath.Join(dir, last)
		starts := blockStarts(t, path)
		flip(t, path, starts[1]+blockHeaderSize+2)
		size := fileSize(t, path)
		_, err := Open(testOptions(dir, CompressionZstd))
		wantCorrupt(t, "Open", err, last, starts[1])
		if fileSize(t, path) != size {
			t.Fatal("Open changed the file")
		}
		wantCorrupt(t, "reader", readErr(dir), last, starts[1])

		// RepairTail cuts it, and says so.
		o := testOptions(dir, CompressionZstd)
		o.RepairTail = true
		j, err := Open(o)
		if err != nil {
			t.Fatalf("Open with RepairTail: %v", err)
		}
		rec := j.Recovery()
		j.Close()
		if !rec.Torn || rec.TornAt != starts[1] || rec.TruncatedBytes != size-starts[1] {
			t.Fatalf("RepairTail Recovery = %+v", rec)
		}
		if got := checkRead(t, dir, 0); got != rec.Next {
			t.Fatalf("after repair read %d, want %d", got, rec.Next)
		}
	})
	t.Run("last segment, bad header, good blocks after", func(t *testing.T) {
		dir, segs := build(t)
		last := segs[len(segs)-1]
		path := filepath.Join(dir, last)
		starts := blockStarts(t, path)
		flip(t, path, starts[0]+20) // the raw length
		_, err := Open(testOptions(dir, CompressionZstd))
		wantCorrupt(t, "Open", err, last, starts[0])
	})
	t.Run("last segment, valid header with a wrong offset", func(t *testing.T) {
		dir, segs := build(t)
		last := segs[len(segs)-1]
		path := filepath.Join(dir, last)
		starts := blockStarts(t, path)
		at := starts[len(starts)-1]
		data, _ := os.ReadFile(path)
		var h blockHeader
		decodeBlockHeader(data[at:], &h)
		h.first += 1000
		h.put(data[at:])
		writeFile(t, path, data)
		_, err := Open(testOptions(dir, CompressionZstd))
		wantCorrupt(t, "Open", err, last, at)
	})
	t.Run("earlier segment, bad body", func(t *testing.T) {
		dir, segs := build(t)
		path := filepath.Join(dir, segs[1])
		starts := blockStarts(t, path)
		flip(t, path, starts[2]+blockHeaderSize)
		// The default Open checks only the file headers of earlier
		// segments; the reader finds the damage.
		j, err := Open(testOptions(dir, CompressionZstd))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		j.Close()
		wantCorrupt(t, "reader", readErr(dir), segs[1], starts[2])
		o := testOptions(dir, CompressionZstd)
		o.VerifyAll = true
		_, err = Open(o)
		wantCorrupt(t, "Open VerifyAll", err, segs[1], starts[2])
	})
	t.Run("earlier segment, truncated", func(t *testing.T) {
		dir, segs := build(t)
		path := filepath.Join(dir, segs[0])
		size := fileSize(t, path)
		if err := os.Truncate(path, size-3); err != nil {
			t.Fatal(err)
		}
		o := testOptions(dir, CompressionZstd)
		o.VerifyAll = true
		_, err := Open(o)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Segment != segs[0] {
			t.Fatalf("Open VerifyAll: %v", err)
		}
		err = readErr(dir)
		if !errors.As(err, &ce) || ce.Segment != segs[0] || !strings.Contains(err.Error(), "later segment") {
			t.Fatalf("reader: %v", err)
		}
	})
	t.Run("earlier segment, bad file header", func(t *testing.T) {
		dir, segs := build(t)
		flip(t, filepath.Join(dir, segs[1]), 2)
		_, err := Open(testOptions(dir, CompressionZstd))
		wantCorrupt(t, "Open", err, segs[1], 0)
	})
	t.Run("missing middle segment", func(t *testing.T) {
		dir, segs := build(t)
		if err := os.Remove(filepath.Join(dir, segs[1])); err != nil {
			t.Fatal(err)
		}
		o := testOptions(dir, CompressionZstd)
		o.VerifyAll = true
		_, err := Open(o)
		wantCorrupt(t, "Open VerifyAll", err, segs[2], 0)
		err = readErr(dir)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Segment != segs[0] || !strings.Contains(err.Error(), "next segment starts") {
			t.Fatalf("reader: %v", err)
		}
	})
	t.Run("last segment, bad file header, blocks after", func(t *testing.T) {
		dir, segs := build(t)
		last := segs[len(segs)-1]
		flip(t, filepath.Join(dir, last), 9)
		_, err := Open(testOptions(dir, CompressionZstd))
		wantCorrupt(t, "Open", err, last, 0)
	})
}
