package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Open opens the journal in opts.Dir, creating the directory and a first
// segment when there is none, and takes an exclusive lock on it.
//
// It checks the file header of every segment and every block of the last
// one (all blocks of all segments with VerifyAll). A last segment that ends
// in a partial or damaged block — what a crash in the middle of a write
// leaves — is cut at the end of its last good block, and Recovery and a log
// line say so. Damage anywhere else is a *CorruptError naming the segment
// and byte offset: nothing is dropped silently.
func Open(opts Options) (*Journal, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("journal: create dir: %w", err)
	}
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	j := &Journal{opts: opts, log: opts.Logger, lock: lock}
	if err := j.open(); err != nil {
		if j.f != nil {
			j.f.Close()
		}
		unlockDir(lock)
		return nil, err
	}
	j.next.Store(uint64(j.nextOff))
	j.acked.Store(uint64(j.nextOff))
	j.blk = make([]byte, blockHeaderSize, blockHeaderSize+opts.BlockBytes)
	if opts.Compression != CompressionNone {
		j.out = make([]byte, 0, outCap(opts.BlockBytes))
	}
	switch opts.Compression {
	case CompressionS2:
		j.codec = blockFlagS2
	case CompressionZstd:
		j.codec = blockFlagZstd
		j.enc, err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevel(opts.Level)),
			zstd.WithEncoderConcurrency(max(1, opts.Compressors)),
			zstd.WithEncoderCRC(false), // the block CRC32C covers it
		)
		if err != nil {
			j.f.Close()
			unlockDir(lock)
			return nil, fmt.Errorf("journal: zstd encoder: %w", err)
		}
	}
	j.lastSync = time.Now()
	if opts.Compressors > 0 {
		j.startAsync()
	}
	return j, nil
}

func (j *Journal) open() error {
	dir := j.opts.Dir
	bases, err := listSegments(dir)
	if err != nil {
		return err
	}
	if len(bases) == 0 {
		f, err := j.createSegment(0)
		if err != nil {
			return err
		}
		j.f, j.segName, j.segBase, j.segSize = f, segmentName(0), 0, fileHeaderSize
		j.dirty = j.opts.Fsync == FsyncNever
		j.rec = Recovery{Segments: 1, Created: true}
		j.log.Info("journal created", "dir", dir)
		return nil
	}

	var sc scanner
	expect := bases[0]
	for _, base := range bases[:len(bases)-1] {
		name := segmentName(base)
		if j.opts.VerifyAll {
			if base != expect {
				return &CorruptError{Segment: name, Pos: 0, Reason: fmt.Sprintf(
					"segment starts at offset %d but the previous one ends at %d", base, expect)}
			}
			res, err := sc.scanFile(dir, base)
			if err != nil {
				return err
			}
			if res.bad != "" {
				return &CorruptError{Segment: name, Pos: res.badPos, Reason: res.bad + " (not the last segment)"}
			}
			expect = res.next
		} else if err := checkSegmentHeader(dir, base); err != nil {
			return err
		}
	}

	last := bases[len(bases)-1]
	name := segmentName(last)
	if j.opts.VerifyAll && last != expect {
		return &CorruptError{Segment: name, Pos: 0, Reason: fmt.Sprintf(
			"segment starts at offset %d but the previous one ends at %d", last, expect)}
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("journal: open segment %s: %w", name, err)
	}
	j.f, j.segName, j.segBase = f, name, last
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("journal: stat segment %s: %w", name, err)
	}
	res, err := sc.scan(f, name, last, fi.Size())
	if err != nil {
		return err
	}
	rec := Recovery{Segments: len(bases), First: bases[0], Next: res.next}
	if res.bad != "" {
		if res.badPos == 0 && res.size > fileHeaderSize {
			return &CorruptError{Segment: name, Pos: 0, Reason: res.bad + " (and the segment holds more bytes)"}
		}
		if res.badPos > 0 && res.intact && !j.opts.RepairTail {
			return &CorruptError{Segment: name, Pos: res.badPos, Reason: res.bad}
		}
		if res.badPos > 0 && !j.opts.RepairTail {
			q, err := sc.laterBlock(f, res.badPos, res.size, res.next)
			if err != nil {
				return fmt.Errorf("journal: scan segment %s: %w", name, err)
			}
			if q >= 0 {
				return &CorruptError{Segment: name, Pos: res.badPos, Reason: fmt.Sprintf(
					"%s, and a valid block header follows at byte %d: not a torn tail", res.bad, q)}
			}
		}
		rec.Torn, rec.TornSegment, rec.TornAt = true, name, res.badPos
		rec.TruncatedBytes, rec.TornReason = res.size-res.badPos, res.bad
		if err := cutTail(f, last, res.badPos, j.opts.Fsync != FsyncNever); err != nil {
			return fmt.Errorf("journal: cut torn tail of segment %s: %w", name, err)
		}
		if res.badPos == 0 {
			res.good = fileHeaderSize
		}
		j.log.Warn("journal torn tail cut", "segment", name, "at", rec.TornAt,
			"bytes", rec.TruncatedBytes, "reason", rec.TornReason, "next", rec.Next)
	}
	if _, err := f.Seek(res.good, io.SeekStart); err != nil {
		return fmt.Errorf("journal: seek segment %s: %w", name, err)
	}
	j.segSize = res.good
	j.nextOff = res.next
	rec.Records = uint64(rec.Next - rec.First)
	j.rec = rec
	j.log.Debug("journal opened", "dir", dir, "segments", rec.Segments, "first", rec.First, "next", rec.Next)
	return nil
}

// cutTail truncates f at pos (a file header is rewritten when pos is 0) and
// fsyncs it if asked.
func cutTail(f *os.File, base Offset, pos int64, fsync bool) error {
	if err := f.Truncate(pos); err != nil {
		return err
	}
	if pos == 0 {
		var hdr [fileHeaderSize]byte
		putFileHeader(hdr[:], base)
		if _, err := f.WriteAt(hdr[:], 0); err != nil {
			return err
		}
	}
	if !fsync {
		return nil
	}
	return f.Sync()
}

// listSegments returns the base offsets of the segment files in dir, in
// increasing order. Other files are ignored.
func listSegments(dir string) ([]Offset, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: read dir: %w", err)
	}
	var bases []Offset
	for _, e := range ents {
		if base, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			bases = append(bases, base)
		}
	}
	slices.Sort(bases)
	return bases, nil
}

func checkSegmentHeader(dir string, base Offset) error {
	name := segmentName(base)
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("journal: open segment %s: %w", name, err)
	}
	defer f.Close()
	var hdr [fileHeaderSize]byte
	n, err := f.ReadAt(hdr[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("journal: read segment %s: %w", name, err)
	}
	if reason := checkFileHeader(hdr[:n], base); reason != "" {
		return &CorruptError{Segment: name, Pos: 0, Reason: reason + " (not the last segment)"}
	}
	return nil
}

// scanner checks segments block by block, reusing its buffers.
type scanner struct {
	hdr  [blockHeaderSize]byte
	body []byte
}

// scanResult describes a scanned segment: its good prefix and, if the scan
// stopped early, where and why.
type scanResult struct {
	size   int64
	good   int64  // end of the last good block (or of the file header)
	next   Offset // one past the last record of the good blocks
	blocks int
	bad    string // "" when the whole file is good
	badPos int64
	// intact: the bad block's header has a good magic and CRC but says
	// something impossible, which a torn write cannot produce.
	intact bool
}

func (s *scanner) scanFile(dir string, base Offset) (scanResult, error) {
	name := segmentName(base)
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return scanResult{}, fmt.Errorf("journal: open segment %s: %w", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return scanResult{}, fmt.Errorf("journal: stat segment %s: %w", name, err)
	}
	return s.scan(f, name, base, fi.Size())
}

// scan checks the file header and then every block (header CRC, offsets,
// body CRC) of a segment of the given size.
func (s *scanner) scan(f io.ReaderAt, name string, base Offset, size int64) (scanResult, error) {
	res := scanResult{size: size, next: base}
	readAt := func(b []byte, pos int64) error {
		if _, err := f.ReadAt(b, pos); err != nil {
			return fmt.Errorf("journal: read segment %s at %d: %w", name, pos, err)
		}
		return nil
	}
	if size < fileHeaderSize {
		res.bad = fmt.Sprintf("file header truncated (%d of %d bytes)", size, fileHeaderSize)
		return res, nil
	}
	var fh [fileHeaderSize]byte
	if err := readAt(fh[:], 0); err != nil {
		return res, err
	}
	if reason := checkFileHeader(fh[:], base); reason != "" {
		res.bad = reason
		return res, nil
	}
	pos := int64(fileHeaderSize)
	res.good = pos
	var h blockHeader
	for pos < size {
		res.badPos = pos
		if size-pos < blockHeaderSize {
			res.bad = fmt.Sprintf("block header truncated (%d of %d bytes)", size-pos, blockHeaderSize)
			return res, nil
		}
		if err := readAt(s.hdr[:], pos); err != nil {
			return res, err
		}
		if reason := decodeBlockHeader(s.hdr[:], &h); reason != "" {
			res.bad, res.intact = reason, headerIntact(s.hdr[:])
			return res, nil
		}
		if h.first != res.next {
			res.bad, res.intact = fmt.Sprintf("block first offset %d, expected %d", h.first, res.next), true
			return res, nil
		}
		if rest := size - pos - blockHeaderSize; rest < int64(h.storedLen) {
			res.bad = fmt.Sprintf("block body truncated (%d of %d bytes)", rest, h.storedLen)
			return res, nil
		}
		// storedLen <= maxBlockRaw and the bytes exist: safe to allocate.
		if cap(s.body) < int(h.storedLen) {
			s.body = make([]byte, h.storedLen)
		}
		body := s.body[:h.storedLen]
		if err := readAt(body, pos+blockHeaderSize); err != nil {
			return res, err
		}
		if got := crc(body); got != h.bodyCRC {
			res.bad = fmt.Sprintf("block body CRC mismatch (stored %08x, computed %08x)", h.bodyCRC, got)
			return res, nil
		}
		pos += h.size()
		res.good = pos
		res.next = h.end()
		res.blocks++
	}
	res.badPos = 0
	return res, nil
}

// headerIntact reports whether b starts with a block header whose magic and
// CRC are right.
func headerIntact(b []byte) bool {
	return len(b) >= blockHeaderSize && [4]byte(b[0:4]) == blockMagic &&
		crc(b[0:32]) == binary.LittleEndian.Uint32(b[32:36])
}

// laterBlock looks after a bad block at pos for the header of a later block
// (magic and CRC right, first offset at or after next). It returns its byte
// offset, or -1 when there is none: then the bad block is a torn tail.
func (s *scanner) laterBlock(f io.ReaderAt, pos, size int64, next Offset) (int64, error) {
	const chunk = 1 << 20
	buf := make([]byte, min(chunk+blockHeaderSize, max(size-pos, 0)))
	for start := pos + 1; start+blockHeaderSize <= size; start += chunk {
		n := min(int64(len(buf)), size-start)
		b := buf[:n]
		if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return -1, err
		}
		for i := 0; ; {
			k := bytes.Index(b[i:], blockMagic[:])
			if k < 0 || i+k >= chunk {
				break
			}
			i += k
			var h blockHeader
			if i+blockHeaderSize <= len(b) && decodeBlockHeader(b[i:i+blockHeaderSize], &h) == "" && h.first >= next {
				return start + int64(i), nil
			}
			i++
		}
	}
	return -1, nil
}
