package journal

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// validSegment returns the bytes of a one-segment journal with blocks of
// both kinds.
func validSegment(tb testing.TB, comp string, records int) []byte {
	tb.Helper()
	dir := tb.TempDir()
	opts := testOptions(dir, comp)
	opts.SegmentBytes = 1 << 20
	opts.BlockBytes = 512
	j := mustOpen(tb, opts)
	appendN(tb, j, records, 7)
	if err := j.Close(); err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, segmentName(0)))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// fixCRCs rewrites the file header CRC and, block by block as far as the
// lengths allow, the body and header CRCs, so that mutated bytes get past
// the checksums to the length checks, zstd and the record framing.
func fixCRCs(data []byte) {
	if len(data) < fileHeaderSize {
		return
	}
	binary.LittleEndian.PutUint32(data[20:24], crc(data[0:20]))
	pos := fileHeaderSize
	for len(data)-pos >= blockHeaderSize {
		b := data[pos:]
		stored := int(binary.LittleEndian.Uint32(b[24:28]))
		if stored > len(b)-blockHeaderSize {
			binary.LittleEndian.PutUint32(b[32:36], crc(b[0:32]))
			return
		}
		binary.LittleEndian.PutUint32(b[28:32], crc(b[blockHeaderSize:blockHeaderSize+stored]))
		binary.LittleEndian.PutUint32(b[32:36], crc(b[0:32]))
		pos += blockHeaderSize + stored
	}
}

// FuzzReader feeds arbitrary bytes to the reader as a segment file (and,
// with fixCRC, the same bytes with their checksums made right). The reader
// must return records or errors — io.EOF or a *CorruptError — and never
// panic; Open on the same bytes must either refuse them as corrupt or
// recover a journal the reader then reads to its end without error.
func FuzzReader(f *testing.F) {
	// Small seeds (a few blocks each) keep inputs fast and minimization
	// short.
	zstdSeg := validSegment(f, CompressionZstd, 25)
	rawSeg := validSegment(f, CompressionNone, 12)
	s2Seg := validSegment(f, CompressionS2, 16)
	f.Add(s2Seg, false)
	f.Add(s2Seg, true)
	f.Add(zstdSeg, false)
	f.Add(rawSeg, false)
	f.Add(zstdSeg[:len(zstdSeg)-7], false)
	f.Add(rawSeg[:fileHeaderSize+blockHeaderSize+3], true)
	f.Add([]byte{}, false)
	f.Add([]byte("TLJS"), false)
	mutated := append([]byte(nil), zstdSeg...)
	mutated[fileHeaderSize+blockHeaderSize+10] ^= 0xff // inside a zstd frame
	f.Add(mutated, true)

	// One directory per fuzzing process, emptied before each input, rather
	// than a directory made and removed per input.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, fixCRC bool) {
		fuzzReaderOnce(t, dir, data, fixCRC)
	})
}

func fuzzReaderOnce(t *testing.T, dir string, data []byte, fixCRC bool) {
	if fixCRC {
		data = append([]byte(nil), data...)
		fixCRCs(data)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		// The lock file and segment 0 are reused: creating files is most
		// of the cost of an input.
		if e.Name() == lockName || e.Name() == segmentName(0) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, segmentName(0)), data)

	var n int
	r, err := NewReader(dir, 0)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	for {
		_, off, p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("reader: error that is not ErrCorrupt: %v", err)
			}
			break
		}
		if off != Offset(n) || len(p) > len(data)*40000 {
			t.Fatalf("record %d: offset %d, %d bytes", n, off, len(p))
		}
		n++
	}
	r.Close()

	j, err := Open(Options{Dir: dir, Fsync: FsyncNever})
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open: error that is not ErrCorrupt: %v", err)
		}
		return
	}
	next := j.Recovery().Next
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if fixCRC {
		return // a block whose CRCs were forged may still hold bad records
	}
	r, err = NewReader(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var m Offset
	for {
		_, _, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading what Open recovered (%d records): %v", next, err)
		}
		m++
	}
	if m != next {
		t.Fatalf("read %d records, Open recovered %d", m, next)
	}
}

// TestReaderDoesNotTrustLengths: headers with valid CRCs that claim huge
// bodies do not make the reader allocate for them.
func TestReaderDoesNotTrustLengths(t *testing.T) {
	f := func(name string, h blockHeader, body []byte, wantCorrupt bool) {
		t.Helper()
		dir := t.TempDir()
		data := make([]byte, fileHeaderSize+blockHeaderSize, fileHeaderSize+blockHeaderSize+len(body))
		putFileHeader(data, 0)
		h.put(data[fileHeaderSize:])
		data = append(data, body...)
		writeFile(t, filepath.Join(dir, segmentName(0)), data)

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, err := NewReader(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, err = r.Next()
		r.Close()
		runtime.ReadMemStats(&after)
		if wantCorrupt != errors.Is(err, ErrCorrupt) || (!wantCorrupt && err != io.EOF) {
			t.Errorf("%s: Next = %v, want corrupt %v", name, err, wantCorrupt)
		}
		if testing.Verbose() {
			t.Logf("%s: %v", name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
			t.Errorf("%s: reader allocated %d bytes for a %d-byte file", name, alloc, len(data))
		}
	}
	body := []byte("tiny")
	// The last segment ends inside the claimed body: the writer might still
	// be at work, so io.EOF, and nothing allocated for 16 MiB.
	f("raw, huge claimed", blockHeader{count: 1, rawLen: maxBlockRaw, storedLen: maxBlockRaw, bodyCRC: crc(body)}, body, false)
	f("zstd, huge claimed", blockHeader{flags: blockFlagZstd, count: 1, rawLen: maxBlockRaw, storedLen: maxBlockRaw - 1}, body, false)
	f("over the limit", blockHeader{count: 1, rawLen: maxBlockRaw + 1, storedLen: maxBlockRaw + 1}, body, true)
	f("stored over raw", blockHeader{flags: blockFlagZstd, count: 1, rawLen: 10, storedLen: 11}, body, true)
	f("count over raw", blockHeader{count: 3, rawLen: 4, storedLen: 4, bodyCRC: crc(body)}, body, true)
	// A zstd frame that inflates to 8 MiB, in a block that says a little
	// more than its stored length: decoding stops at the stated length.
	bomb := zstdBomb(t, 8<<20)
	f("zstd bomb", blockHeader{flags: blockFlagZstd, count: 1, rawLen: uint32(len(bomb) + 100),
		storedLen: uint32(len(bomb)), bodyCRC: crc(bomb)}, bomb, true)
	// A record length over the limit inside a valid block.
	rec := binary.LittleEndian.AppendUint32(nil, MaxPayload+1)
	rec = append(rec, 1, 0, 0, 0)
	f("record over limit", blockHeader{count: 1, rawLen: uint32(len(rec)), storedLen: uint32(len(rec)), bodyCRC: crc(rec)}, rec, true)
}

func zstdBomb(t *testing.T, n int) []byte {
	t.Helper()
	dir := t.TempDir()
	opts := testOptions(dir, CompressionZstd)
	j := mustOpen(t, opts)
	defer j.Close()
	zeros := make([]byte, n)
	out := j.enc.EncodeAll(zeros, nil)
	if len(out) > 4096 {
		t.Fatalf("bomb is %d bytes", len(out))
	}
	return out
}
