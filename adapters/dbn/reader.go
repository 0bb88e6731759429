package dbn

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

const (
	readBufSize = 64 << 10 // the Reader's buffer; records are at most 1020 bytes
	// maxZstdWindow bounds the memory a zstd frame may ask for. Databento
	// writes frames with small windows; a larger one is treated as corrupt.
	maxZstdWindow = 64 << 20
	// DefaultMaxMetadataLen is ReaderOptions.MaxMetadataLen's default
	// (64 MiB): the metadata header's length field comes from the input.
	// A request for a million 22-byte symbols with a mapping each takes
	// about 70 bytes a symbol, 70 MB: raise the option for such files.
	DefaultMaxMetadataLen = 64 << 20
	// metadataChunk is the most the metadata body grows by at a time: it
	// is read as it arrives, never allocated from the declared length.
	metadataChunk = 1 << 20
	// maxEmptyReads is how many (0, nil) reads in a row count as no progress.
	maxEmptyReads = 100
)

var zstdMagic = [4]byte{0x28, 0xB5, 0x2F, 0xFD}

// Reader decodes a DBN stream (versions 1, 2 and 3, plain or zstd). Next
// returns views into an internal buffer and allocates nothing per record.
// A Reader is not safe for concurrent use.
type Reader struct {
	src    io.Reader     // decompressed bytes
	zr     *zstd.Decoder // nil for plain input
	buf    []byte
	pos    int   // next unread byte in buf
	end    int   // end of valid bytes in buf
	base   int64 // stream offset of buf[0]
	md     Metadata
	minLen [256]uint16 // minimum record length per rtype, ts_out included
	counts [256]uint64 // records read per rtype
	err    error       // sticky: io.EOF or the first error
	empty  int         // consecutive empty reads
}

// ReaderOptions bound what a Reader accepts from its input.
type ReaderOptions struct {
	// MaxMetadataLen is the largest metadata header accepted, in bytes of
	// the decompressed stream; 0 means DefaultMaxMetadataLen (64 MiB). A
	// longer declared length is refused before anything is allocated.
	MaxMetadataLen int64
}

// Validate names the bad field.
func (o ReaderOptions) Validate() error {
	if o.MaxMetadataLen < 0 {
		return fmt.Errorf("dbn: MaxMetadataLen: %d is negative", o.MaxMetadataLen)
	}
	return nil
}

// WithDefaults fills the zero fields.
func (o ReaderOptions) WithDefaults() ReaderOptions {
	if o.MaxMetadataLen == 0 {
		o.MaxMetadataLen = DefaultMaxMetadataLen
	}
	return o
}

// NewReader is NewReaderWith and the default ReaderOptions.
func NewReader(r io.Reader) (*Reader, error) { return NewReaderWith(r, ReaderOptions{}) }

// NewReaderWith reads the metadata header of a DBN stream from r, which may
// be zstd-compressed (detected by the zstd magic bytes), within the bounds
// of o. Call Close when done to release the decompressor; Close does not
// close r.
func NewReaderWith(r io.Reader, o ReaderOptions) (*Reader, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.WithDefaults()
	var magic [4]byte
	n, err := io.ReadFull(r, magic[:])
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, metaErr(ErrTruncated, int64(n), "input ends after %d bytes, before the DBN magic", n)
		}
		return nil, metaErr(err, 0, "reading the magic")
	}
	rd := &Reader{buf: make([]byte, readBufSize)}
	if magic == zstdMagic {
		zr, err := zstd.NewReader(io.MultiReader(bytes.NewReader(magic[:]), r),
			zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, metaErr(ErrCorrupt, 0, "%v", err)
		}
		rd.src, rd.zr = zr, zr
	} else {
		rd.src = r
		rd.end = copy(rd.buf, magic[:])
	}
	if err := rd.readMetadata(o.MaxMetadataLen); err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

// Metadata returns the stream's metadata header.
func (r *Reader) Metadata() *Metadata { return &r.md }

// Close releases the zstd decoder, if any. It does not close the
// underlying reader. Next returns an error after Close.
func (r *Reader) Close() error {
	if r.zr != nil {
		r.zr.Close()
		r.zr = nil
	}
	if r.err == nil {
		r.err = errors.New("dbn: reader closed")
	}
	return nil
}

// Offset returns the stream offset of the next unread byte.
func (r *Reader) Offset() int64 { return r.base + int64(r.pos) }

func (r *Reader) readMetadata(maxLen int64) error {
	if err := r.fill(prefixLen); err != nil {
		return r.wrapFill(err, -1, -1, "metadata prefix")
	}
	p := r.buf[r.pos : r.pos+prefixLen]
	if p[0] != 'D' || p[1] != 'B' || p[2] != 'N' {
		return metaErr(ErrBadMagic, 0, "first bytes are % x, want \"DBN\" or the zstd magic", p[:4])
	}
	v := p[3]
	if v < 1 || v > 3 {
		return metaErr(ErrUnsupportedVersion, 3, "version %d, this reader supports 1 to 3", v)
	}
	length := int64(le32(p, 4))
	if length > maxLen {
		return metaErr(ErrBadMetadata, 4, "declared metadata length %d exceeds the %d-byte limit (MaxMetadataLen)", length, maxLen)
	}
	r.pos += prefixLen

	// Read the body without trusting length for the allocation: it grows
	// with the bytes that really arrive, never past length.
	buffered := int64(r.end - r.pos)
	var body []byte
	if length <= buffered {
		body = bytes.Clone(r.buf[r.pos : r.pos+int(length)])
		r.pos += int(length)
	} else {
		head := bytes.NewReader(r.buf[r.pos:r.end])
		var err error
		body, err = readUpTo(io.MultiReader(head, r.src), length)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return r.wrapRead(err, prefixLen+int64(len(body)), "reading metadata")
		}
		r.base += int64(r.end) + int64(len(body)) - buffered
		r.pos, r.end = 0, 0
		if int64(len(body)) < length {
			return metaErr(ErrTruncated, prefixLen+int64(len(body)),
				"metadata declares %d bytes, input ends after %d", length, len(body))
		}
	}
	md, err := parseMetadata(v, body, prefixLen)
	if err != nil {
		return err
	}
	r.md = md
	extra := 0
	if md.TsOut {
		extra = tsOutLen
	}
	for t := range r.minLen {
		r.minLen[t] = uint16(max(recordLen(v, RType(t)), headerLen) + extra)
	}
	return nil
}

// readUpTo reads up to n bytes from src into a buffer that starts at
// metadataChunk and doubles as bytes arrive, never past n (io.ReadAll may
// double past it): memory follows the bytes present, at most twice. A short input is not an error: the caller compares the length.
func readUpTo(src io.Reader, n int64) ([]byte, error) {
	body := make([]byte, 0, min(n, metadataChunk))
	for int64(len(body)) < n {
		if len(body) == cap(body) {
			grown := make([]byte, len(body), min(n, int64(2*cap(body))))
			copy(grown, body)
			body = grown
		}
		m, err := src.Read(body[len(body):min(cap(body), int(n))])
		body = body[:len(body)+m]
		if err == io.EOF {
			return body, nil
		}
		if err != nil {
			return body, err
		}
	}
	return body, nil
}

// Next returns the next record. The Record is a view valid until the next
// call. At a clean end of the stream it returns io.EOF; any bad input gives
// an *Error. Errors are sticky.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	avail := r.end - r.pos
	// Fast path: a whole record is buffered. avail >= headerLen makes
	// buf[pos] safe to read before the length test.
	if avail < headerLen || avail < int(r.buf[r.pos])*4 {
		if err := r.fillRecord(); err != nil {
			r.err = err
			return Record{}, err
		}
	}
	b := r.buf[r.pos:r.end]
	n, t := int(b[0])*4, b[1]
	if n < int(r.minLen[t]) {
		r.err = r.badLength(n, t)
		return Record{}, r.err
	}
	r.pos += n
	r.counts[t]++
	return Record{b: b[:n:n], ver: r.md.Version, tsOut: r.md.TsOut}, nil
}

// fillRecord buffers the next whole record, or at least the header when the
// claimed length is shorter than a header (Next then rejects it).
func (r *Reader) fillRecord() error {
	if err := r.fill(1); err != nil {
		if err == io.EOF && r.end == r.pos {
			return io.EOF
		}
		return r.wrapFill(err, -1, -1, "record")
	}
	n := int(r.buf[r.pos]) * 4
	need := max(n, headerLen)
	if err := r.fill(need); err != nil {
		t := -1
		if r.end-r.pos >= 2 {
			t = int(r.buf[r.pos+1])
		}
		return r.wrapFill(err, t, n, "record")
	}
	return nil
}

// fill makes at least need bytes available at buf[pos:], reading from src.
// It returns io.EOF (or the reader's error) if the input ends first.
func (r *Reader) fill(need int) error {
	if r.end-r.pos >= need {
		return nil
	}
	if r.pos > 0 {
		r.end = copy(r.buf, r.buf[r.pos:r.end])
		r.base += int64(r.pos)
		r.pos = 0
	}
	for r.end < need {
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		if r.end >= need {
			return nil
		}
		if err != nil {
			return err
		}
		if m == 0 {
			if r.empty++; r.empty >= maxEmptyReads {
				return io.ErrNoProgress
			}
			continue
		}
		r.empty = 0
	}
	return nil
}

// wrapFill turns a fill failure into an *Error at the current offset.
func (r *Reader) wrapFill(err error, t, n int, what string) error {
	off := r.Offset()
	have := r.end - r.pos
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		if err != io.EOF {
			what += " (the compressed input ends inside a frame)"
		}
		return &Error{Offset: off, RType: t, Length: n, Err: ErrTruncated,
			Detail: fmt.Sprintf("input ends %d bytes into the %s", have, what)}
	}
	e := r.wrapRead(err, off, "reading "+what).(*Error)
	e.RType, e.Length = t, n
	return e
}

// wrapRead names a read error: zstd failures become ErrCorrupt, others are
// kept (a network error stays a network error).
func (r *Reader) wrapRead(err error, off int64, what string) error {
	if r.zr != nil && !errors.Is(err, io.ErrNoProgress) {
		return &Error{Offset: off, RType: -1, Length: -1, Err: ErrCorrupt, Detail: what + ": " + err.Error()}
	}
	return &Error{Offset: off, RType: -1, Length: -1, Err: err, Detail: what}
}

func (r *Reader) badLength(n int, t uint8) error {
	detail := fmt.Sprintf("length %d is shorter than the %d-byte header", n, headerLen)
	if want := int(r.minLen[t]); n >= headerLen {
		detail = fmt.Sprintf("length %d is shorter than the %d bytes a version %d %s record needs",
			n, want, r.md.Version, RType(t))
		if r.md.TsOut {
			detail += " with ts_out"
		}
	}
	return &Error{Offset: r.Offset(), RType: int(t), Length: n, Err: ErrBadRecord, Detail: detail}
}

// RecordCounts are the records a Reader has returned, by rtype.
type RecordCounts struct {
	ByRType [256]uint64
	Total   uint64
	Market  uint64 // MBO, MBP-0, MBP-1, MBP-10: the records Source turns into ticks
	Skipped uint64 // recognized records that carry no ticks (definitions, mappings, status, ...)
	Unknown uint64 // rtypes this package does not know, skipped by their length
	Ticks   uint64 // ticks produced (Source only)
}

// Counts returns the records returned so far, by rtype.
func (r *Reader) Counts() RecordCounts {
	c := RecordCounts{ByRType: r.counts}
	for t, n := range r.counts {
		c.Total += n
		switch rt := RType(t); {
		case rt.IsMarket():
			c.Market += n
		case rt.Known():
			c.Skipped += n
		default:
			c.Unknown += n
		}
	}
	return c
}
