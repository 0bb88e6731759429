package dbn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// hugeMetadata is a .dbn.zst whose prefix declares declared bytes of
// metadata and which really holds zeros bytes of it: a few KB on disk.
func hugeMetadata(tb testing.TB, declared uint32, zeros int) []byte {
	var out bytes.Buffer
	zw, err := zstd.NewWriter(&out, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	prefix := binary.LittleEndian.AppendUint32([]byte("DBN\x02"), declared)
	if _, err := zw.Write(prefix); err != nil {
		tb.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for left := zeros; left > 0; left -= len(chunk) {
		if _, err := zw.Write(chunk[:min(left, len(chunk))]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// allocated runs fn and returns the bytes it allocated.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHugeMetadataRefused: a small .dbn.zst declaring 1 GiB of metadata
// (and holding 16 MiB of it) is refused from its prefix with the length
// named, allocating a fraction of what it declares; with the limit raised,
// the body is read as it arrives, so memory follows the bytes present,
// not the declared length (before: io.ReadAll up to 1 GiB, ~2 GB).
func TestHugeMetadataRefused(t *testing.T) {
	const present = 16 << 20
	data := hugeMetadata(t, 1<<30, present)
	if len(data) > 64<<10 {
		t.Fatalf("test input is %d bytes compressed", len(data))
	}
	var err error
	n := allocated(func() { _, err = NewReader(bytes.NewReader(data)) })
	var e *Error
	if !errors.Is(err, ErrBadMetadata) || !errors.As(err, &e) || e.Offset != 4 {
		t.Fatalf("err = %v, want ErrBadMetadata at offset 4", err)
	}
	if n > 16<<20 {
		t.Errorf("refusal allocated %d bytes", n)
	}
	base := n // the decompressor's own buffers
	n = allocated(func() { _, err = NewReaderWith(bytes.NewReader(data), ReaderOptions{MaxMetadataLen: 1 << 30}) })
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("raised limit: err = %v, want ErrTruncated", err)
	}
	// A doubling buffer allocates under 4× what it holds (1+2+…+2k).
	if n > base+4*present {
		t.Errorf("reading %d bytes of a declared 1 GiB allocated %d bytes (refusal: %d)", present, n, base)
	}
	if _, err := NewReaderWith(bytes.NewReader(data), ReaderOptions{MaxMetadataLen: -1}); err == nil {
		t.Error("negative MaxMetadataLen accepted")
	}
}

// TestMetadataLimitKeepsValid: a real file's metadata reads under a limit
// just above its length and is refused just below it.
func TestMetadataLimitKeepsValid(t *testing.T) {
	data := writeStream(t, testMetadata(3), false, sampleRecords()...)
	length := int64(binary.LittleEndian.Uint32(data[4:]))
	r, err := NewReaderWith(bytes.NewReader(data), ReaderOptions{MaxMetadataLen: length})
	if err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first record: %v", err)
	}
	r.Close()
	if _, err := NewReaderWith(bytes.NewReader(data), ReaderOptions{MaxMetadataLen: length - 1}); !errors.Is(err, ErrBadMetadata) {
		t.Fatalf("below the limit: %v", err)
	}
}
