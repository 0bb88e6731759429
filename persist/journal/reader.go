package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// ErrOffsetRemoved is returned (wrapped) by NewReader for an offset below
// the first segment in the directory.
var ErrOffsetRemoved = errors.New("journal: offset is before the first segment")

// Reader reads records from a journal directory in offset order. It opens
// the files itself and may run beside the writer (in another goroutine or
// process): a block is only ever returned whole, and a block the writer is
// still writing at the end of the last segment reads as io.EOF until it is
// complete. One Reader is for one goroutine.
//
// Every byte read is checked — magic, CRCs, lengths against the file and
// the limits, offsets continuous across blocks and segments, decompressed
// length, record framing — and anything wrong is a *CorruptError naming the
// segment and byte offset. No length read from a file is trusted to
// allocate: a body is allocated only once the file is seen to hold it, and
// decompression is capped at the length in the (CRC-checked) header.
type Reader struct {
	dir   string
	want  Offset // records below this are skipped
	limit Offset // Next returns io.EOF at this offset

	f       *os.File
	segName string
	segBase Offset
	size    int64  // size of f last seen
	pos     int64  // byte offset of the next block header; 0: file header not read yet
	expect  Offset // first offset of the next block

	// Current block.
	data []byte
	rp   int
	off  Offset // offset of the record at data[rp:]
	left uint32

	hdr     [blockHeaderSize]byte
	stored  []byte
	decoded []byte
	dec     *zstd.Decoder
	err     error // sticky
}

// NewReader returns a Reader whose first record is the one at offset from.
// It finds the segment by its name, skips whole blocks by their headers and
// then records. from may be at or past the end of the journal: Next then
// returns io.EOF until the writer gets there.
func NewReader(dir string, from Offset) (*Reader, error) {
	bases, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if len(bases) == 0 {
		return nil, fmt.Errorf("journal: no segment in %s", dir)
	}
	if from < bases[0] {
		return nil, fmt.Errorf("%w: offset %d, first segment starts at %d", ErrOffsetRemoved, from, bases[0])
	}
	base := bases[0]
	for _, b := range bases {
		if b <= from {
			base = b
		}
	}
	r := &Reader{dir: dir, want: from, limit: math.MaxUint64}
	if err := r.openSegment(base); err != nil {
		return nil, err
	}
	return r, nil
}

// SetLimit makes Next return io.EOF at offset end (for example the writer's
// Acked(), to read only acknowledged records).
func (r *Reader) SetLimit(end Offset) { r.limit = end }

// Next returns the next record. payload is valid until the next call. At
// the end of what is written it returns io.EOF; a later call picks up
// records written since. Any other error is final.
func (r *Reader) Next() (kind uint8, off Offset, payload []byte, err error) {
	for {
		if r.err != nil {
			return 0, 0, nil, r.err
		}
		if r.left > 0 {
			if r.off >= r.limit {
				return 0, 0, nil, io.EOF
			}
			// checkRecords validated the framing of the whole block.
			l := int(binary.LittleEndian.Uint32(r.data[r.rp:]))
			kind = r.data[r.rp+4]
			start := r.rp + recordHeaderSize
			payload = r.data[start : start+l : start+l]
			r.rp = start + l
			r.left--
			off = r.off
			r.off++
			if off < r.want {
				continue
			}
			return kind, off, payload, nil
		}
		if r.expect >= r.limit {
			return 0, 0, nil, io.EOF
		}
		ok, err := r.nextBlock()
		if err != nil {
			r.err = err
			return 0, 0, nil, err
		}
		if !ok {
			return 0, 0, nil, io.EOF
		}
	}
}

// Trailing reports the bytes after the last whole block of the segment the
// Reader is in, once Next has returned io.EOF: a block being written, or
// the torn tail of a writer that died (which the next Open cuts off). It
// returns the segment's name, the byte offset the whole blocks end at, and
// how many bytes follow (0 when the segment ends on a block).
func (r *Reader) Trailing() (segment string, at, n int64) {
	if r.f == nil || r.restat() != nil || r.pos == 0 {
		return r.segName, r.pos, 0
	}
	return r.segName, r.pos, r.size - r.pos
}

// Close releases the open segment file.
func (r *Reader) Close() error {
	if r.dec != nil {
		r.dec.Close()
		r.dec = nil
	}
	if r.err == nil {
		r.err = ErrClosed
	}
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

func (r *Reader) corrupt(pos int64, format string, args ...any) error {
	return &CorruptError{Segment: r.segName, Pos: pos, Reason: fmt.Sprintf(format, args...)}
}

func (r *Reader) openSegment(base Offset) error {
	name := segmentName(base)
	f, err := os.Open(filepath.Join(r.dir, name))
	if err != nil {
		return fmt.Errorf("journal: open segment %s: %w", name, err)
	}
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.segName, r.segBase, r.pos, r.size, r.expect = f, name, base, 0, 0, base
	return r.restat()
}

func (r *Reader) restat() error {
	fi, err := r.f.Stat()
	if err != nil {
		return fmt.Errorf("journal: stat segment %s: %w", r.segName, err)
	}
	r.size = fi.Size()
	return nil
}

func (r *Reader) readAt(b []byte, pos int64) error {
	if _, err := r.f.ReadAt(b, pos); err != nil {
		return fmt.Errorf("journal: read segment %s at %d: %w", r.segName, pos, err)
	}
	return nil
}

// nextBlock loads the next block holding a record at or after r.want. It
// returns false, nil at the end of what is written.
func (r *Reader) nextBlock() (bool, error) {
	var h blockHeader
	for {
		if r.pos == 0 {
			if r.size < fileHeaderSize {
				if err := r.restat(); err != nil {
					return false, err
				}
			}
			if r.size < fileHeaderSize {
				if retry, err := r.shortTail(0, "file header truncated (%d of %d bytes)", r.size, fileHeaderSize); !retry {
					return false, err
				}
				continue
			}
			var fh [fileHeaderSize]byte
			if err := r.readAt(fh[:], 0); err != nil {
				return false, err
			}
			if reason := checkFileHeader(fh[:], r.segBase); reason != "" {
				return false, r.corrupt(0, "%s", reason)
			}
			r.pos = fileHeaderSize
		}

		if r.size-r.pos < blockHeaderSize {
			if err := r.restat(); err != nil {
				return false, err
			}
		}
		if r.size == r.pos {
			ok, err := r.advance()
			if !ok || err != nil {
				return false, err
			}
			continue
		}
		if r.size-r.pos < blockHeaderSize {
			if retry, err := r.shortTail(r.pos, "block header truncated (%d of %d bytes)", r.size-r.pos, blockHeaderSize); !retry {
				return false, err
			}
			continue
		}
		if err := r.readAt(r.hdr[:], r.pos); err != nil {
			return false, err
		}
		if reason := decodeBlockHeader(r.hdr[:], &h); reason != "" {
			return false, r.corrupt(r.pos, "%s", reason)
		}
		if h.first != r.expect {
			return false, r.corrupt(r.pos, "block first offset %d, expected %d", h.first, r.expect)
		}
		end := r.pos + h.size()
		if end > r.size {
			if err := r.restat(); err != nil {
				return false, err
			}
		}
		if end > r.size {
			if retry, err := r.shortTail(r.pos, "block body truncated (%d of %d bytes)", r.size-r.pos-blockHeaderSize, h.storedLen); !retry {
				return false, err
			}
			continue
		}
		if h.end() <= r.want {
			r.pos, r.expect = end, h.end()
			continue
		}
		if err := r.loadBody(&h); err != nil {
			return false, err
		}
		r.pos, r.expect = end, h.end()
		return true, nil
	}
}

// loadBody reads, checks and decompresses the body of the block whose
// header h is at r.pos; the file is known to hold all of it.
func (r *Reader) loadBody(h *blockHeader) error {
	// storedLen <= rawLen <= maxBlockRaw (decodeBlockHeader) and the file
	// holds the bytes, so this allocation is bounded by real input.
	if cap(r.stored) < int(h.storedLen) {
		r.stored = make([]byte, growCap(cap(r.stored), int(h.storedLen)))
	}
	stored := r.stored[:h.storedLen]
	if err := r.readAt(stored, r.pos+blockHeaderSize); err != nil {
		return err
	}
	if got := crc(stored); got != h.bodyCRC {
		return r.corrupt(r.pos, "block body CRC mismatch (stored %08x, computed %08x)", h.bodyCRC, got)
	}
	data := stored
	if h.flags != 0 {
		if cap(r.decoded) < int(h.rawLen) {
			r.decoded = make([]byte, 0, growCap(cap(r.decoded), int(h.rawLen)))
		}
		var err error
		if data, err = r.decompress(h, stored); err != nil {
			return r.corrupt(r.pos, "%v", err)
		}
		if len(data) != int(h.rawLen) {
			return r.corrupt(r.pos, "decompressed %d bytes, header says %d", len(data), h.rawLen)
		}
	}
	if reason := checkRecords(data, h.count); reason != "" {
		return r.corrupt(r.pos, "%s", reason)
	}
	r.data, r.rp, r.off, r.left = data, 0, h.first, h.count
	return nil
}

// decompress decodes a compressed body into r.decoded, whose capacity is
// at least h.rawLen: neither codec is allowed to write more.
func (r *Reader) decompress(h *blockHeader, stored []byte) ([]byte, error) {
	switch h.flags {
	case blockFlagS2:
		n, err := s2.DecodedLen(stored)
		if err != nil {
			return nil, fmt.Errorf("s2: %w", err)
		}
		if n != int(h.rawLen) {
			return nil, fmt.Errorf("s2 block says %d bytes, header says %d", n, h.rawLen)
		}
		out, err := s2.Decode(r.decoded[:n], stored)
		if err != nil {
			return nil, fmt.Errorf("s2: %w", err)
		}
		return out, nil
	case blockFlagZstd:
		if r.dec == nil {
			dec, err := zstd.NewReader(nil,
				zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxMemory(maxBlockRaw),
				zstd.WithDecoderMaxWindow(32<<20),
				zstd.WithDecodeAllCapLimit(true),
			)
			if err != nil {
				return nil, fmt.Errorf("zstd decoder: %w", err)
			}
			r.dec = dec
		}
		out, err := r.dec.DecodeAll(stored, r.decoded[:0])
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown block flags %#02x", h.flags)
}

// shortTail handles a segment that ends inside a file header or block at
// pos. In the last segment that is the writer at work (or a torn tail Open
// has not cut yet): io.EOF for now. If a later segment exists the writer has
// finished with this one, so it is re-checked once and then corrupt.
func (r *Reader) shortTail(pos int64, format string, args ...any) (retry bool, err error) {
	later, err := r.laterSegment()
	if err != nil || later == 0 {
		return false, err
	}
	old := r.size
	if err := r.restat(); err != nil {
		return false, err
	}
	if r.size > old {
		return true, nil
	}
	return false, r.corrupt(pos, format+" and a later segment exists", args...)
}

// advance moves to the segment after the current one, which must start at
// r.expect. It returns false, nil when there is none yet, and true, nil
// also when the current segment turns out to have grown.
func (r *Reader) advance() (bool, error) {
	later, err := r.laterSegment()
	if err != nil || later == 0 {
		return false, err
	}
	// The writer starts a segment only after its last write to the one
	// before; look at this one's size again now that a later one is seen.
	if err := r.restat(); err != nil {
		return false, err
	}
	if r.size != r.pos {
		return true, nil
	}
	if later != r.expect {
		return false, r.corrupt(r.pos, "segment ends at offset %d but the next segment starts at %d", r.expect, later)
	}
	return true, r.openSegment(later)
}

// laterSegment returns the base of the first segment after the current
// one, or 0 when there is none.
func (r *Reader) laterSegment() (Offset, error) {
	bases, err := listSegments(r.dir)
	if err != nil {
		return 0, err
	}
	for _, b := range bases {
		if b > r.segBase {
			return b, nil
		}
	}
	return 0, nil
}

// growCap is the capacity for a buffer of capacity old that must hold need
// bytes: at least 64 KiB and doubling, so a stream of growing blocks costs
// few allocations, but never over maxBlockRaw (need is at most that).
func growCap(old, need int) int {
	return max(need, min(max(2*old, 64<<10), maxBlockRaw))
}
