package journal

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// splitmix64 step: deterministic record content from an offset.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// recordFor returns the kind and payload the tests write at offset off:
// mostly 8..168 bytes of low-entropy text (so zstd has work), and every
// 211th record 2500..3500 bytes, larger than the test block sizes.
func recordFor(off Offset, buf []byte) (uint8, []byte) {
	x := splitmix(uint64(off))
	n := 8 + int(x%160)
	if off%211 == 0 {
		n = 2500 + int(x%1000)
	}
	buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(off))
	for len(buf) < n {
		x = splitmix(x)
		buf = append(buf, 'a'+byte(x%16))
	}
	return uint8(1 + off%5), buf[:n]
}

var allCompressions = []string{CompressionZstd, CompressionS2, CompressionNone}

// background, when set (TestBackgroundWriter), makes testOptions use the
// background writer with few blocks in flight, so Append waits often.
var background bool

func testOptions(dir, compression string) Options {
	o := Options{
		Dir:          dir,
		SegmentBytes: MinSegmentBytes * 2,
		BlockBytes:   1024,
		Compression:  compression,
		Fsync:        FsyncNever,
	}
	if background {
		o.Compressors, o.InFlight = 2, 3
	}
	return o
}

func mustOpen(t testing.TB, opts Options) *Journal {
	t.Helper()
	j, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return j
}

// appendN appends the records for offsets [j.Next(), j.Next()+n), flushing
// after every flushEvery records (0: never).
func appendN(t testing.TB, j *Journal, n, flushEvery int) {
	t.Helper()
	var buf []byte
	for i := 0; i < n; i++ {
		want := j.Next()
		kind, p := recordFor(want, buf)
		buf = p
		off, err := j.Append(kind, p)
		if err != nil {
			t.Fatalf("Append at %d: %v", want, err)
		}
		if off != want {
			t.Fatalf("Append returned offset %d, want %d", off, want)
		}
		if flushEvery > 0 && (i+1)%flushEvery == 0 {
			if err := j.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if j.Acked() != j.Next() {
				t.Fatalf("after Flush Acked %d != Next %d", j.Acked(), j.Next())
			}
		}
	}
}

// checkRead reads dir from offset from to io.EOF, checking every record
// against recordFor, and returns one past the last offset read.
func checkRead(t testing.TB, dir string, from Offset) Offset {
	t.Helper()
	r, err := NewReader(dir, from)
	if err != nil {
		t.Fatalf("NewReader(%d): %v", from, err)
	}
	defer r.Close()
	e := expected{next: from}
	for {
		kind, off, p, err := r.Next()
		if err == io.EOF {
			return e.next
		}
		if err != nil {
			t.Fatalf("reader from %d: Next after %d: %v", from, e.next, err)
		}
		e.check(t, kind, off, p)
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	bases, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(bases))
	for i, b := range bases {
		names[i] = segmentName(b)
	}
	return names
}

// expected checks the records a reader returns against recordFor, in
// order from next.
type expected struct {
	next Offset
	buf  []byte
}

// check fails the test unless the record is recordFor(e.next), and moves on.
func (e *expected) check(t testing.TB, kind uint8, off Offset, p []byte) {
	t.Helper()
	wk, wp := recordFor(off, e.buf)
	e.buf = wp
	if off != e.next || kind != wk || !bytes.Equal(p, wp) {
		t.Fatalf("got record %d kind %d len %d, want %d kind %d len %d", off, kind, len(p), e.next, wk, len(wp))
	}
	e.next++
}
