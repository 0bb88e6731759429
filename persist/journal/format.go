package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Offset is the global index of a record: the first record ever appended is
// 0 and offsets are contiguous across blocks and segments.
type Offset uint64

// Layout constants; FORMAT.md is the reference for the bytes.
const (
	// FormatVersion is the version written in every segment's file header.
	FormatVersion = 1

	// MaxPayload is the largest payload Append accepts (16 MiB).
	MaxPayload = 16 << 20

	fileHeaderSize   = 24
	blockHeaderSize  = 36
	recordHeaderSize = 5 // u32 payload length + u8 kind

	// maxBlockRaw bounds the uncompressed length of any block a reader will
	// accept: one maximal record. BlockBytes is validated to stay below it.
	maxBlockRaw = recordHeaderSize + MaxPayload

	segmentExt     = ".tlj"
	segmentNameLen = 20 + len(segmentExt)

	blockFlagZstd = 1 << 0
	blockFlagS2   = 1 << 1
	codecFlags    = blockFlagZstd | blockFlagS2
)

var (
	fileMagic  = [4]byte{'T', 'L', 'J', 'S'}
	blockMagic = [4]byte{'T', 'L', 'J', 'B'}

	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// ErrCorrupt is matched (errors.Is) by every *CorruptError.
var ErrCorrupt = errors.New("journal: corrupt")

// CorruptError reports bytes that are not a valid journal: where they are
// and why they were refused.
type CorruptError struct {
	Segment string // segment file name
	Pos     int64  // byte offset in the segment file (of the block header, for a block)
	Reason  string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal: corrupt segment %s at byte %d: %s", e.Segment, e.Pos, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// segmentName is the file name of the segment whose first record is base.
func segmentName(base Offset) string {
	s := strconv.FormatUint(uint64(base), 10)
	return strings.Repeat("0", 20-len(s)) + s + segmentExt
}

// parseSegmentName returns the base offset encoded in a segment file name.
func parseSegmentName(name string) (Offset, bool) {
	if len(name) != segmentNameLen || !strings.HasSuffix(name, segmentExt) {
		return 0, false
	}
	digits := name[:20]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return Offset(v), true
}

// putFileHeader writes the 24-byte segment file header into b.
func putFileHeader(b []byte, base Offset) {
	_ = b[fileHeaderSize-1]
	copy(b[0:4], fileMagic[:])
	binary.LittleEndian.PutUint16(b[4:6], FormatVersion)
	binary.LittleEndian.PutUint16(b[6:8], 0)
	binary.LittleEndian.PutUint64(b[8:16], uint64(base))
	binary.LittleEndian.PutUint32(b[16:20], 0)
	binary.LittleEndian.PutUint32(b[20:24], crc(b[0:20]))
}

// checkFrame checks what both headers (what: "file" or "block") begin and
// end with: their size, their magic, and the CRC32C of the bytes before it
// in their last 4. It returns "" or the reason the header is refused.
func checkFrame(b []byte, what string, size int, magic [4]byte) string {
	if len(b) < size {
		return what + " header truncated"
	}
	if [4]byte(b[0:4]) != magic {
		return fmt.Sprintf("bad %s magic %q", what, b[0:4])
	}
	if got, want := binary.LittleEndian.Uint32(b[size-4:size]), crc(b[0:size-4]); got != want {
		return fmt.Sprintf("%s header CRC mismatch (stored %08x, computed %08x)", what, got, want)
	}
	return ""
}

// checkFileHeader validates a segment file header against the base offset
// its file name gives. It returns "" or the reason it is refused.
func checkFileHeader(b []byte, base Offset) string {
	if reason := checkFrame(b, "file", fileHeaderSize, fileMagic); reason != "" {
		return reason
	}
	if v := binary.LittleEndian.Uint16(b[4:6]); v != FormatVersion {
		return fmt.Sprintf("unsupported format version %d (this build reads %d)", v, FormatVersion)
	}
	if f := binary.LittleEndian.Uint16(b[6:8]); f != 0 {
		return fmt.Sprintf("unknown file header flags %#04x", f)
	}
	if r := binary.LittleEndian.Uint32(b[16:20]); r != 0 {
		return "reserved file header bytes are not zero"
	}
	if got := Offset(binary.LittleEndian.Uint64(b[8:16])); got != base {
		return fmt.Sprintf("file header base offset %d does not match the file name (%d)", got, base)
	}
	return ""
}

// blockHeader is the decoded 36-byte header in front of every block.
type blockHeader struct {
	flags     uint8
	first     Offset
	count     uint32
	rawLen    uint32
	storedLen uint32
	bodyCRC   uint32
}

func (h *blockHeader) end() Offset { return h.first + Offset(h.count) }

// size is the number of bytes the block takes in the file.
func (h *blockHeader) size() int64 { return blockHeaderSize + int64(h.storedLen) }

// put writes h into b; the header CRC covers bytes 0..32.
func (h *blockHeader) put(b []byte) {
	_ = b[blockHeaderSize-1]
	copy(b[0:4], blockMagic[:])
	b[4] = h.flags
	b[5], b[6], b[7] = 0, 0, 0
	binary.LittleEndian.PutUint64(b[8:16], uint64(h.first))
	binary.LittleEndian.PutUint32(b[16:20], h.count)
	binary.LittleEndian.PutUint32(b[20:24], h.rawLen)
	binary.LittleEndian.PutUint32(b[24:28], h.storedLen)
	binary.LittleEndian.PutUint32(b[28:32], h.bodyCRC)
	binary.LittleEndian.PutUint32(b[32:36], crc(b[0:32]))
}

// decodeBlockHeader parses and checks a block header. It returns "" or the
// reason the header is refused. A header that passes has lengths a reader
// may allocate for: rawLen <= maxBlockRaw and storedLen <= rawLen.
func decodeBlockHeader(b []byte, h *blockHeader) string {
	if reason := checkFrame(b, "block", blockHeaderSize, blockMagic); reason != "" {
		return reason
	}
	h.flags = b[4]
	h.first = Offset(binary.LittleEndian.Uint64(b[8:16]))
	h.count = binary.LittleEndian.Uint32(b[16:20])
	h.rawLen = binary.LittleEndian.Uint32(b[20:24])
	h.storedLen = binary.LittleEndian.Uint32(b[24:28])
	h.bodyCRC = binary.LittleEndian.Uint32(b[28:32])
	switch {
	case h.flags&^codecFlags != 0 || h.flags == codecFlags:
		return fmt.Sprintf("unknown block flags %#02x", h.flags)
	case b[5] != 0 || b[6] != 0 || b[7] != 0:
		return "reserved block header bytes are not zero"
	case h.count == 0:
		return "block holds zero records"
	case h.rawLen > maxBlockRaw:
		return fmt.Sprintf("raw length %d over the limit %d", h.rawLen, maxBlockRaw)
	case uint64(h.count)*recordHeaderSize > uint64(h.rawLen):
		return fmt.Sprintf("%d records cannot fit in raw length %d", h.count, h.rawLen)
	case h.flags&codecFlags == 0 && h.storedLen != h.rawLen:
		return fmt.Sprintf("uncompressed block with stored length %d != raw length %d", h.storedLen, h.rawLen)
	case h.storedLen > h.rawLen:
		return fmt.Sprintf("stored length %d over raw length %d", h.storedLen, h.rawLen)
	case uint64(h.first)+uint64(h.count) < uint64(h.first):
		return fmt.Sprintf("offsets overflow: first %d + count %d", h.first, h.count)
	}
	return ""
}

// checkRecords walks the records of a decoded block and checks that they
// tile it exactly, that there are count of them and that none has kind 0 or
// a length over MaxPayload. It returns "" or the reason.
func checkRecords(data []byte, count uint32) string {
	var n uint32
	p := 0
	for p < len(data) {
		if len(data)-p < recordHeaderSize {
			return fmt.Sprintf("record %d: header truncated at block byte %d", n, p)
		}
		l := binary.LittleEndian.Uint32(data[p:])
		if l > MaxPayload {
			return fmt.Sprintf("record %d: length %d over the limit %d", n, l, MaxPayload)
		}
		if uint64(l) > uint64(len(data)-p-recordHeaderSize) {
			return fmt.Sprintf("record %d: length %d overruns the block at block byte %d", n, l, p)
		}
		if data[p+4] == 0 {
			return fmt.Sprintf("record %d: kind 0 at block byte %d", n, p)
		}
		p += recordHeaderSize + int(l)
		n++
	}
	if n != count {
		return fmt.Sprintf("block holds %d records, header says %d", n, count)
	}
	return ""
}
