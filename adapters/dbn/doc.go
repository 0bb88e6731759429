// Package dbn decodes Databento DBN streams and turns their market records
// into record.MarketTick values.
//
// It owns three things: Reader, a zero-allocation decoder of DBN versions 1,
// 2 and 3, plain or zstd-compressed (detected by the zstd magic bytes); Source,
// the conversion of MBO, MBP-1, TBBO, trades (MBP-0) and MBP-10 records into
// ticks, with instrument_id to symbol resolution; and Writer, a small DBN v2/v3
// encoder for tests and benchmarks.
//
// Reader parses the metadata header of every version (v1's record_count and
// 22-byte symbols, v2/v3's symbol_cstr_len), then returns records as views
// into its buffer. Typed decoders, which fill a caller-owned struct, cover MBO
// (rtype 0xA0), MBP-0 (0x00), MBP-1 and TBBO (0x01), MBP-10 (0x0A),
// instrument definitions (0x13, whose layout differs in each version), symbol
// mappings (0x16, v1 differs from v2/v3) and error/system text (0x15, 0x17). Status, imbalance, statistics, OHLCV,
// CBBO/BBO records are recognized and length-checked; unknown rtypes are
// skipped by their length. All are counted. Records carrying ts_out are
// handled.
//
// The input is outside data: no byte sequence makes this package panic.
// Bad input is an *Error naming what was wrong and where (byte offset in the
// decompressed stream, rtype, length) and wrapping a sentinel such as
// ErrBadMagic, ErrUnsupportedVersion, ErrTruncated or ErrBadRecord.
//
// Limits: a metadata header may declare at most ReaderOptions.MaxMetadataLen
// (default DefaultMaxMetadataLen, 64 MiB; a longer one is refused before
// anything is allocated, and the body is read as it arrives, never
// allocated from the declared length), and a zstd frame may
// ask for a window of at most 64 MiB (so zstd --long=27 output is rejected
// as ErrCorrupt); memory use is bounded by the input actually read.
//
// Symbology is Databento's: an instrument is named by the metadata's
// mapping interval that holds the record's ts_recv (ts_event only when
// ts_recv is not recorded), as `dbn --map-symbols` and the Python client
// do — a session's opening snapshot carries orders' original entry times
// as ts_event, days before the interval. Snapshot records (F_SNAPSHOT)
// keep their flag: the engine builds the book from them but no windows.
// TestBookMatchesDatabento checks the engine's book against an independent
// one built from databento-dbn (testdata/refbook.py) on every shared
// capture — the top of book after every record, the levels at the end —
// and TestSnapshotFirstCapture on a capture that opens with a snapshot
// older than its mapping interval.
//
// Neither Reader.Next nor Source.Next allocates per record in steady state;
// Source allocates only when it interns a symbol it has not seen.
package dbn
