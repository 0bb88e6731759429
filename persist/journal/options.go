package journal

import (
	"fmt"
	"log/slog"
	"time"
)

// FsyncPolicy says when the journal calls fsync on the open segment.
type FsyncPolicy string

const (
	// FsyncAlways fsyncs every block before its records are acknowledged:
	// an acknowledged record survives a power loss.
	FsyncAlways FsyncPolicy = "always"
	// FsyncInterval acknowledges a record once its block is written and
	// fsyncs at most every FsyncInterval, when a block is written or Flush is
	// called after the interval has passed. An acknowledged record survives
	// a crash of the process; a power loss can lose up to one interval.
	FsyncInterval FsyncPolicy = "interval"
	// FsyncNever leaves write-back to the operating system: the journal
	// never fsyncs, not even at Close or recovery (Sync still does when
	// called). An acknowledged record survives a crash of the process only.
	FsyncNever FsyncPolicy = "never"
)

// Compression names accepted in Options.Compression.
const (
	CompressionZstd = "zstd"
	CompressionS2   = "s2"
	CompressionNone = "none"
)

// Defaults used by WithDefaults.
const (
	DefaultSegmentBytes  = 64 << 20
	DefaultBlockBytes    = 64 << 10
	DefaultLevel         = 1
	DefaultFsyncInterval = 50 * time.Millisecond
	DefaultInFlight      = 64
	DefaultRetryInterval = 100 * time.Millisecond
	// MaxCompressors and MaxInFlight bound the background writer.
	MaxCompressors = 64
	MaxInFlight    = 4096

	// MinSegmentBytes and MinBlockBytes are the smallest sizes Validate
	// accepts; MaxBlockBytes the largest block.
	MinSegmentBytes = 4 << 10
	MinBlockBytes   = 64
	MaxBlockBytes   = MaxPayload
)

// Options configure a Journal. The zero value of every field but Dir means
// its default; call WithDefaults to see them filled in.
type Options struct {
	// Dir holds the segment files; Open creates it. Required.
	Dir string
	// SegmentBytes: a new segment is started before the next block once the
	// open one holds at least this many bytes. Default 64 MiB, minimum 4 KiB.
	SegmentBytes int64
	// BlockBytes is the uncompressed size of records that fills a block.
	// A record larger than this goes in a block of its own. Default 64 KiB,
	// from 64 bytes to 16 MiB.
	BlockBytes int
	// Compression of block bodies: "zstd" (default), "s2" (klauspost's
	// Snappy extension: about 3x faster than zstd's fastest level, about
	// 1.45x the compressed size on ticks) or "none". A block is still stored
	// raw when compressing does not save at least 1/32 of it. Readers read
	// every codec whatever the writer's option; it may change between runs.
	Compression string
	// Level is the zstd encoder level of klauspost/compress: 1 fastest
	// (about zstd -1, the default), 2 default (about -3), 3 better (about
	// -7), 4 best (about -11). Used by "zstd" only.
	Level int
	// Fsync is the fsync policy: "always", "interval" (default) or "never".
	Fsync FsyncPolicy
	// FsyncInterval is the longest time written blocks wait for an fsync
	// under the "interval" policy, counted from the last fsync and checked
	// when a block is written or Flush is called. Default 50ms.
	FsyncInterval time.Duration
	// VerifyAll makes Open check every block of every segment (header and
	// body CRC, offsets continuous across segments) instead of only the
	// last segment. Earlier segments are otherwise checked by their file
	// header only, and a Reader reports any damage in them as an error.
	VerifyAll bool
	// RepairTail makes Open cut the last segment at a bad block even when
	// valid blocks follow it (what a power loss under "interval" or "never"
	// can leave: pages written out of order). Recovery reports what was cut.
	// Off by default: damage that is not at the tail is an error.
	RepairTail bool
	// Compressors, when above 0, moves compression and writing off the
	// appending goroutine: Append only copies records into blocks; full
	// blocks go to Compressors goroutines that compress them in parallel
	// and one writer goroutine that writes them in order (see Submit,
	// WriteErr, Abort). 0 (the default): Append and Flush compress and
	// write inline.
	Compressors int
	// InFlight is how many blocks may be sealed and not yet written with
	// Compressors set: the buffering that absorbs a burst; Append waits
	// for a free block beyond it (counted in Stats.BlockWaits). Default 64.
	InFlight int
	// RetryInterval is how often the background writer tries a block
	// again after a write that can be retried failed (a full disk).
	// Default 100ms.
	RetryInterval time.Duration
	// Logger receives recovery and rotation events. Default: discard.
	Logger *slog.Logger
}

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.BlockBytes == 0 {
		o.BlockBytes = DefaultBlockBytes
	}
	if o.Compression == "" {
		o.Compression = CompressionZstd
	}
	if o.Level == 0 {
		o.Level = DefaultLevel
	}
	if o.Fsync == "" {
		o.Fsync = FsyncInterval
	}
	if o.FsyncInterval == 0 {
		o.FsyncInterval = DefaultFsyncInterval
	}
	if o.InFlight == 0 {
		o.InFlight = DefaultInFlight
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate checks o as given (call WithDefaults first to accept zero
// fields) and names the first bad field.
func (o Options) Validate() error {
	bad := func(field string, format string, args ...any) error {
		return fmt.Errorf("journal: Options.%s: %s", field, fmt.Sprintf(format, args...))
	}
	switch {
	case o.Dir == "":
		return bad("Dir", "must be set")
	case o.SegmentBytes < MinSegmentBytes:
		return bad("SegmentBytes", "%d is below the minimum %d", o.SegmentBytes, MinSegmentBytes)
	case o.BlockBytes < MinBlockBytes || o.BlockBytes > MaxBlockBytes:
		return bad("BlockBytes", "%d is outside [%d, %d]", o.BlockBytes, MinBlockBytes, MaxBlockBytes)
	case o.Compression != CompressionZstd && o.Compression != CompressionS2 && o.Compression != CompressionNone:
		return bad("Compression", "%q is not %q, %q or %q", o.Compression, CompressionZstd, CompressionS2, CompressionNone)
	case o.Level < 1 || o.Level > 4:
		return bad("Level", "%d is outside [1, 4]", o.Level)
	case o.Fsync != FsyncAlways && o.Fsync != FsyncInterval && o.Fsync != FsyncNever:
		return bad("Fsync", "%q is not %q, %q or %q", o.Fsync, FsyncAlways, FsyncInterval, FsyncNever)
	case o.Fsync == FsyncInterval && o.FsyncInterval <= 0:
		return bad("FsyncInterval", "%v must be positive for the %q policy", o.FsyncInterval, FsyncInterval)
	case o.Compressors < 0 || o.Compressors > MaxCompressors:
		return bad("Compressors", "%d is outside [0, %d]", o.Compressors, MaxCompressors)
	case o.InFlight < 1 || o.InFlight > MaxInFlight:
		return bad("InFlight", "%d is outside [1, %d]", o.InFlight, MaxInFlight)
	case o.RetryInterval <= 0 || o.RetryInterval > time.Minute:
		return bad("RetryInterval", "%v is outside (0, 1m]", o.RetryInterval)
	}
	return nil
}
