// Package journal is the engine's embedded, append-only write-ahead log: a
// directory of segment files holding checksummed, optionally compressed
// blocks of length-prefixed records, with torn-tail recovery at Open.
//
// It owns the bytes under its directory and nothing else: record kinds are
// opaque uint8s defined by the engine (0 is reserved), payloads are opaque
// bytes. It never allocates per Append in steady state, never trusts a
// length read from disk to allocate, never panics on bad bytes, and never
// drops data silently: damage at the tail of the last segment is cut and
// reported (Recovery, a log line), damage anywhere else is a *CorruptError
// naming the segment file and byte offset. It imports nothing of the
// project.
//
// # Single writer
//
// One goroutine owns a Journal and calls Append, Flush, Sync and Close; the
// engine has one journal goroutine fed by a ring. Acked, Next, Stats and
// Recovery may be called from any goroutine. Open takes an exclusive flock
// on DIR/LOCK, so a second writer (in this process or another) gets
// ErrLocked. Readers (NewReader) need no lock and may tail the directory
// while the writer appends; start them after Open, which may cut the tail.
//
// # Acknowledgement and fsync
//
// Append copies the record into the open block and returns its Offset
// (the global record index: 0, 1, 2, ... contiguous across segments). The
// record is not yet on disk. A block is written with one write(2) when it
// fills up (BlockBytes of records) or at Flush. A record is acknowledged
// once its block is written and, under the fsync policy "always", fsynced;
// Acked() is one past the last acknowledged record, and after Flush
// returns nil, Acked() == Next().
//
//   - "always": fsync after every block write, before the ack. An
//     acknowledged record survives a power loss.
//   - "interval" (default): fsync when a block is written or Flush is
//     called and FsyncInterval (50ms) has passed since the last one. An
//     acknowledged record survives a crash of the process; a power loss can
//     lose what was written since the last fsync. The journal has no
//     goroutine: an idle owner calls Flush or Sync on a timer.
//   - "never": no fsync at all (not at rotation, recovery or Close). An
//     acknowledged record survives a crash of the process only.
//
// Sync fsyncs now under any policy. Rotation (a new segment once the open
// one holds SegmentBytes) fsyncs the old segment, the new one's header and
// the directory, except under "never".
//
// With Options.Compressors > 0 the journal has a background writer
// (async.go): Append only copies records into preallocated blocks, full
// blocks (and those Submit seals) are compressed by Compressors goroutines
// in parallel and written in order by one writer goroutine, with at most
// InFlight blocks in flight (Append waits beyond: Stats.BlockWaits).
// Acknowledgement is the same: a record is acknowledged once its block is
// written (and fsynced under "always"); Flush waits for it, Submit does
// not. The writer retries a full disk itself every RetryInterval (WriteErr
// says why meanwhile; Abort gives up).
//
// A full disk is not fatal: when a block write fails (ENOSPC, EDQUOT...) or
// a new segment cannot be created (no space, no file descriptors), the
// partial block is cut off the segment again, the records stay held in
// memory, and the error wraps ErrRetry: a later Flush (or Append) writes
// them, so once there is room every record lands once, in order. The
// engine stops deciding meanwhile (engine/writer.go). After any other write
// error, or any fsync error, the Journal is failed: every later call
// returns that error (an fsync is never retried: the page cache's state is
// unknown after one fails), and the next Open cuts whatever partial block
// was left.
//
// A Reader reads whole blocks only; it may return records of a block that
// is written but not yet fsynced. SetLimit(j.Acked()) holds it to
// acknowledged records.
//
// # On-disk format
//
// FORMAT.md in this directory is the reference; in short (all integers
// little-endian, CRC is CRC-32C Castagnoli):
//
//	segment file  DIR/<first offset, 20 decimal digits>.tlj, e.g. 00000000000000000000.tlj
//	              = file header, then blocks back to back
//	file header   24 bytes
//	   0  4  magic "TLJS"
//	   4  2  format version = 1
//	   6  2  flags = 0
//	   8  8  base offset (first record offset of the segment, = the file name)
//	  16  4  reserved = 0
//	  20  4  CRC of bytes 0..20
//	block header  36 bytes, followed by stored-length bytes of body
//	   0  4  magic "TLJB"
//	   4  1  flags: bit 0 zstd, bit 1 s2, neither = raw (both is invalid)
//	   5  3  reserved = 0
//	   8  8  first record offset
//	  16  4  record count (>= 1)
//	  20  4  raw length (records' bytes, uncompressed; <= 16 MiB + 5)
//	  24  4  stored length (body bytes; = raw length when raw)
//	  28  4  CRC of the stored body
//	  32  4  CRC of bytes 0..32
//	body          raw: the records; zstd: one zstd frame; s2: one s2 block
//	record        [u32 payload length <= 16 MiB][u8 kind != 0][payload]
//
// A block's first offset is the previous block's first + count (or the
// segment's base), and a segment's base is the previous segment's end.
package journal
