package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

var (
	// ErrClosed is returned by calls on a closed Journal.
	ErrClosed = errors.New("journal: closed")
	// ErrPayloadTooLarge is returned (wrapped) by Append for a payload over
	// MaxPayload bytes.
	ErrPayloadTooLarge = errors.New("journal: payload too large")
	// ErrInvalidKind is returned by Append for kind 0, which is reserved.
	ErrInvalidKind = errors.New("journal: record kind 0 is reserved")
	// ErrLocked is returned (wrapped) by Open when another Journal holds the
	// directory.
	ErrLocked = errors.New("journal: directory is locked by another writer")
	// ErrRetry is wrapped by the errors of a write that failed without
	// harm: the disk is full, or a new segment could not be created (out of
	// space or of file descriptors). The partial block was cut off the
	// segment, the records are still held, and a later Flush (or Append)
	// writes them again. Every other write error is sticky.
	ErrRetry = errors.New("not written yet, will retry")
	// ErrAborted fails a journal whose background writer was told to give
	// up a write it was retrying (Abort).
	ErrAborted = errors.New("journal: gave up writing")
)

// minCompressBytes: blocks smaller than this are stored raw without trying
// zstd, whose frame overhead eats what it could save.
const minCompressBytes = 128

// Journal is the writer of an append-only journal directory.
//
// One goroutine owns a Journal: Append, Flush, Sync and Close must not be
// called concurrently (the engine feeds its one journal goroutine from a
// ring). Acked, Next, Stats and Recovery may be called from any goroutine.
type Journal struct {
	opts Options
	log  *slog.Logger
	lock *os.File

	// Open segment.
	f       *os.File
	segName string
	segBase Offset
	segSize int64

	// Open block: blk holds blockHeaderSize bytes of room for the header,
	// then the length-prefixed records, so a raw block is written from blk
	// without a copy. out receives the header and the compressed body.
	blk      []byte
	out      []byte
	blkFirst Offset
	blkCount uint32
	codec    uint8 // block flag of the compression, 0 for none
	enc      *zstd.Encoder

	nextOff  Offset // writer's copy of next
	dirty    bool   // bytes written since the last fsync
	lastSync time.Time
	err      error                       // sticky: set by the first write or fsync failure, or Close
	as       *asyncWriter                // the background writer, with Options.Compressors (owner's view)
	bgw      atomic.Pointer[asyncWriter] // the same, for WriteErr, Abort and Stats
	closed   bool

	next  atomic.Uint64
	acked atomic.Uint64
	stats struct {
		records, blocks, compressed, raw, stored, fsyncs, segments, retries atomic.Uint64
	}
	rec Recovery
}

// Stats are counters since Open.
type Stats struct {
	Records          uint64 // records written in blocks
	Blocks           uint64 // blocks written
	CompressedBlocks uint64 // blocks stored compressed
	RawBytes         uint64 // record bytes (with their 5-byte prefixes) in written blocks
	StoredBytes      uint64 // bytes written: block headers and bodies, and segment file headers
	Fsyncs           uint64 // fsyncs of segment files
	SegmentsCreated  uint64 // segment files created
	WriteRetries     uint64 // writes that failed retryably (ErrRetry)
	BlockWaits       uint64 // Appends that waited for a free block (background writer)
}

// Recovery is what Open found in the directory.
type Recovery struct {
	Segments int    // segment files found (after a first one was created, if Created)
	Created  bool   // the directory held no segment: a first one was created
	First    Offset // first offset still in the journal (base of the first segment)
	Next     Offset // offset the next Append gets
	Records  uint64 // records in the journal: Next - First

	// Torn is true when the last segment ended in a partial or damaged
	// block (or file header), which Open cut off.
	Torn           bool
	TornSegment    string // segment file name
	TornAt         int64  // byte offset the segment was cut at
	TruncatedBytes int64  // bytes cut off
	TornReason     string // what was wrong with the first cut-off bytes
}

// Append copies a record into the open block and returns its offset. When
// the record does not fit, the open block is sealed and written first; a
// record larger than BlockBytes goes in a block of its own. Append does not
// allocate in steady state (only a record larger than BlockBytes grows the
// block buffer, for that block).
//
// The record is acknowledged (see Acked) once its block is written: when
// the block fills up, or at the next Flush. An error wrapping ErrRetry
// means the record was not appended (the full block before it could not be
// written yet): append it again later. After any other error the Journal
// is failed: every later call returns the same error and records appended
// but not acknowledged are not on disk.
func (j *Journal) Append(kind uint8, payload []byte) (Offset, error) {
	if err := j.failure(); err != nil {
		return 0, err
	}
	if kind == 0 {
		return 0, ErrInvalidKind
	}
	if len(payload) > MaxPayload {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrPayloadTooLarge, len(payload), MaxPayload)
	}
	n := recordHeaderSize + len(payload)
	if j.blkCount > 0 && len(j.blk)-blockHeaderSize+n > j.opts.BlockBytes {
		if err := j.seal(); err != nil {
			return 0, err
		}
	}
	if j.as != nil && j.blk == nil {
		if err := j.as.take(j); err != nil {
			return 0, err
		}
	}
	off := j.nextOff
	if j.blkCount == 0 {
		j.blkFirst = off
	}
	j.blk = binary.LittleEndian.AppendUint32(j.blk, uint32(len(payload)))
	j.blk = append(j.blk, kind)
	j.blk = append(j.blk, payload...)
	j.blkCount++
	j.nextOff++
	j.next.Store(uint64(j.nextOff))
	if len(j.blk)-blockHeaderSize >= j.opts.BlockBytes {
		// The record is in the block either way: a retryable failure
		// shows at the next Append or Flush, which write the block again.
		if err := j.seal(); err != nil && !errors.Is(err, ErrRetry) {
			return off, err
		}
	}
	return off, nil
}

// Err returns the sticky error that failed the Journal, or nil (a
// retryable write failure is not sticky). Owner goroutine only.
func (j *Journal) Err() error { return j.failure() }

// failure is the sticky error, wherever the writing happens.
func (j *Journal) failure() error {
	if j.as != nil {
		return j.as.sticky()
	}
	return j.err
}

// Flush seals and writes the open block and fsyncs as the policy says
// ("always": now; "interval": if FsyncInterval has passed since the last
// fsync). When Flush returns nil every record appended so far is
// acknowledged: Acked() == Next(). An error wrapping ErrRetry leaves the
// records held for the next Flush.
func (j *Journal) Flush() error {
	if j.as != nil {
		return j.as.flush(j)
	}
	if j.err != nil {
		return j.err
	}
	if err := j.seal(); err != nil {
		return err
	}
	if j.opts.Fsync == FsyncInterval && j.dirty && time.Since(j.lastSync) >= j.opts.FsyncInterval {
		return j.sync()
	}
	return nil
}

// Sync flushes and fsyncs now, whatever the policy: an owner under the
// "interval" policy calls it (or Flush) when it goes idle, since the
// journal has no goroutine of its own to fsync later.
func (j *Journal) Sync() error {
	if j.as != nil {
		return j.as.syncNow(j)
	}
	if err := j.Flush(); err != nil {
		return err
	}
	if j.dirty {
		return j.sync()
	}
	return nil
}

func (j *Journal) blockWaits() uint64 {
	if as := j.bgw.Load(); as != nil {
		return as.waits.Load()
	}
	return 0
}

// Acked returns the offset one past the last acknowledged record: every
// record below it is written (and fsynced under the "always" policy).
func (j *Journal) Acked() Offset { return Offset(j.acked.Load()) }

// Next returns the offset the next Append gets.
func (j *Journal) Next() Offset { return Offset(j.next.Load()) }

// Recovery returns what Open found.
func (j *Journal) Recovery() Recovery { return j.rec }

// Stats returns counters since Open.
func (j *Journal) Stats() Stats {
	return Stats{
		Records:          j.stats.records.Load(),
		Blocks:           j.stats.blocks.Load(),
		CompressedBlocks: j.stats.compressed.Load(),
		RawBytes:         j.stats.raw.Load(),
		StoredBytes:      j.stats.stored.Load(),
		Fsyncs:           j.stats.fsyncs.Load(),
		SegmentsCreated:  j.stats.segments.Load(),
		WriteRetries:     j.stats.retries.Load(),
		BlockWaits:       j.blockWaits(),
	}
}

// Dir returns the journal directory.
func (j *Journal) Dir() string { return j.opts.Dir }

// Close flushes, fsyncs (unless the policy is "never") and closes the
// segment. Calls after the first return ErrClosed.
func (j *Journal) Close() error {
	if j.closed {
		return ErrClosed
	}
	if j.as != nil {
		// Hand the open block over, let the writer finish, then close
		// from here (it owns the segment no more).
		_ = j.seal()
		j.as.stop()
		j.err = j.as.sticky()
		j.as = nil
	}
	err := j.err
	if err == nil {
		err = j.Flush()
	}
	if err == nil && j.dirty && j.opts.Fsync != FsyncNever {
		err = j.sync()
	}
	if j.f != nil {
		if cerr := j.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("journal: close segment %s: %w", j.segName, cerr)
		}
		j.f = nil
	}
	if j.enc != nil {
		_ = j.enc.Close()
	}
	unlockDir(j.lock)
	j.err, j.closed = ErrClosed, true
	return err
}

// fail makes err sticky and returns it.
func (j *Journal) fail(err error) error {
	if j.err == nil {
		j.err = err
		j.log.Error("journal failed", "segment", j.segName, "err", err)
	}
	return j.err
}

// seal compresses (or not) and writes the open block, then resets it. With
// a background writer it hands the block over instead (async.go).
func (j *Journal) seal() error {
	if j.blkCount == 0 {
		return nil
	}
	if j.as != nil {
		return j.as.submit(j)
	}
	buf, h, out := j.encodeBlock(j.blk, j.out, j.blkFirst, j.blkCount)
	j.out = out
	if err := j.writeBlock(buf, &h); err != nil {
		return err
	}
	j.blkCount = 0
	j.blk, j.out = j.shrink(j.blk[:blockHeaderSize], j.out)
	return nil
}

// shrink gives back the memory of buffers a record larger than BlockBytes
// grew, rather than holding up to 16 MiB for the rest of the run.
func (j *Journal) shrink(blk, out []byte) ([]byte, []byte) {
	if limit := 2 * (blockHeaderSize + j.opts.BlockBytes); cap(blk) > limit {
		blk = make([]byte, blockHeaderSize, blockHeaderSize+j.opts.BlockBytes)
	}
	if limit := 2 * outCap(j.opts.BlockBytes); cap(out) > limit {
		out = make([]byte, 0, outCap(j.opts.BlockBytes))
	}
	return blk, out
}

// encodeBlock makes the block of count records from first held in blk
// (blockHeaderSize bytes of room, then the records): it compresses the
// body into out when that saves at least 1/32, and fills the header. It
// returns the bytes to write (in blk or out), the header, and out (grown
// if a record over BlockBytes needed it). Safe on several goroutines at
// once (the zstd encoder's EncodeAll is).
func (j *Journal) encodeBlock(blk, out []byte, first Offset, count uint32) ([]byte, blockHeader, []byte) {
	raw := blk[blockHeaderSize:]
	h := blockHeader{first: first, count: count, rawLen: uint32(len(raw))}
	buf := blk
	if j.codec != 0 && len(raw) >= minCompressBytes {
		var enc []byte
		switch j.codec {
		case blockFlagZstd:
			enc = j.enc.EncodeAll(raw, out[:blockHeaderSize])
		case blockFlagS2:
			if need := blockHeaderSize + s2.MaxEncodedLen(len(raw)); cap(out) < need {
				out = make([]byte, 0, need) // a record over BlockBytes
			}
			enc = out[:blockHeaderSize+len(s2.Encode(out[blockHeaderSize:blockHeaderSize], raw))]
		}
		if len(enc)-blockHeaderSize < len(raw)-len(raw)/32 {
			buf = enc
			h.flags = j.codec
		}
		out = enc[:0]
	}
	body := buf[blockHeaderSize:]
	h.storedLen = uint32(len(body))
	h.bodyCRC = crc(body)
	h.put(buf[:blockHeaderSize])
	return buf, h, out
}

// outCap is the room for a block header and the worst case of zstd and s2
// on a full block, so the encoders never have to grow the buffer.
func outCap(blockBytes int) int {
	return blockHeaderSize + max(s2.MaxEncodedLen(blockBytes), blockBytes+blockBytes/128+1024)
}

func (j *Journal) writeBlock(buf []byte, h *blockHeader) error {
	if j.f == nil {
		// The last rotation closed its segment but could not create the
		// next one: try again.
		if err := j.openSegment(h.first); err != nil {
			return err
		}
	} else if j.segSize >= j.opts.SegmentBytes && j.segSize > fileHeaderSize {
		if err := j.rotate(h.first); err != nil {
			return err
		}
	}
	n, err := j.f.Write(buf)
	if err != nil {
		return j.unwrite(n, err)
	}
	j.segSize += int64(n)
	j.dirty = true
	j.stats.blocks.Add(1)
	j.stats.records.Add(uint64(h.count))
	j.stats.raw.Add(uint64(h.rawLen))
	j.stats.stored.Add(uint64(len(buf)))
	if h.flags != 0 {
		j.stats.compressed.Add(1)
	}
	switch j.opts.Fsync {
	case FsyncAlways:
		if err := j.sync(); err != nil {
			return err
		}
	case FsyncInterval:
		if time.Since(j.lastSync) >= j.opts.FsyncInterval {
			if err := j.sync(); err != nil {
				return err
			}
		}
	}
	j.acked.Store(uint64(h.end()))
	return nil
}

// unwrite handles a failed block write: the n bytes that made it are cut
// off again, so the segment ends on a whole block and the block can be
// written anew later (ErrRetry). If the cut fails the Journal is failed
// (the next Open cuts the partial block off).
func (j *Journal) unwrite(n int, err error) error {
	werr := fmt.Errorf("journal: write segment %s: %w", j.segName, err)
	if n > 0 {
		j.dirty = true
	}
	if terr := j.f.Truncate(j.segSize); terr != nil {
		return j.fail(fmt.Errorf("%w; cutting the partial block off: %w", werr, terr))
	}
	if _, serr := j.f.Seek(j.segSize, io.SeekStart); serr != nil {
		return j.fail(fmt.Errorf("%w; seeking back: %w", werr, serr))
	}
	j.stats.retries.Add(1)
	return fmt.Errorf("%w: %w", werr, ErrRetry)
}

func (j *Journal) sync() error {
	if err := j.f.Sync(); err != nil {
		// After a failed fsync the page cache state is unknown: never retry.
		return j.fail(fmt.Errorf("journal: fsync segment %s: %w", j.segName, err))
	}
	j.dirty = false
	j.lastSync = time.Now()
	j.stats.fsyncs.Add(1)
	return nil
}

// rotate closes the open segment and starts one whose first record is base.
// The old segment is fsynced first (unless the policy is "never"), so a
// segment that has a successor on disk is complete.
func (j *Journal) rotate(base Offset) error {
	if j.opts.Fsync != FsyncNever && j.dirty {
		if err := j.sync(); err != nil {
			return err
		}
	}
	if err := j.f.Close(); err != nil {
		return j.fail(fmt.Errorf("journal: close segment %s: %w", j.segName, err))
	}
	j.f = nil
	j.log.Debug("journal segment rotated", "from", j.segName, "to", segmentName(base), "bytes", j.segSize)
	return j.openSegment(base)
}

// openSegment creates the segment whose first record is base and makes it
// the open one. A failure to create it is retryable: nothing of it is left
// behind.
func (j *Journal) openSegment(base Offset) error {
	f, err := j.createSegment(base)
	if j.err != nil {
		return j.err
	}
	if err != nil {
		j.stats.retries.Add(1)
		return fmt.Errorf("%w: %w", err, ErrRetry)
	}
	j.f, j.segName, j.segBase, j.segSize = f, segmentName(base), base, fileHeaderSize
	j.dirty = j.opts.Fsync == FsyncNever
	return nil
}

// createSegment creates the segment file for base with its header and,
// unless the policy is "never", fsyncs it and the directory.
func (j *Journal) createSegment(base Offset) (*os.File, error) {
	name := segmentName(base)
	path := filepath.Join(j.opts.Dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: create segment %s: %w", name, err)
	}
	var hdr [fileHeaderSize]byte
	putFileHeader(hdr[:], base)
	if _, err := f.Write(hdr[:]); err != nil {
		f.Close()
		os.Remove(path) // a retry creates it again
		return nil, fmt.Errorf("journal: write segment %s header: %w", name, err)
	}
	j.stats.stored.Add(fileHeaderSize)
	j.stats.segments.Add(1)
	if j.opts.Fsync != FsyncNever {
		// After a failed fsync the page cache state is unknown: never retry.
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, j.fail(fmt.Errorf("journal: fsync segment %s: %w", name, err))
		}
		j.stats.fsyncs.Add(1)
		j.lastSync = time.Now()
		if err := syncDir(j.opts.Dir); err != nil {
			f.Close()
			return nil, j.fail(err)
		}
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: fsync dir %s: %w", dir, err)
	}
	return nil
}
