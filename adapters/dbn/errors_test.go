package dbn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"thunderline/hotpath/record"
)

func TestErrors(t *testing.T) {
	v2 := readShared(t, "test_data.mbo.dbn") // metadata, then two 56-byte MBO records
	metaEnd := len(v2) - 2*mboLen
	v1 := decompressed(t, readShared(t, esh4File))
	comp := readShared(t, esh4File)
	v1MetaEnd := prefixLen + int(binary.LittleEndian.Uint32(v1[4:]))

	// edit returns a copy of b with f applied.
	edit := func(b []byte, f func(b []byte)) []byte {
		b = bytes.Clone(b)
		f(b)
		return b
	}
	netErr := errors.New("connection reset")

	tests := []struct {
		name     string
		in       []byte
		reader   func() *chunkReader // instead of in
		sentinel error
		offset   int64
		rtype    int // -1: none
		length   int // -1: none
		detail   string
		records  int // records read before the error
	}{
		{name: "empty", in: nil, sentinel: ErrTruncated, offset: 0, rtype: -1, length: -1, detail: "before the DBN magic"},
		{name: "short magic", in: []byte("DB"), sentinel: ErrTruncated, offset: 2, rtype: -1, length: -1},
		{name: "bad magic", in: edit(v2, func(b []byte) { b[0] = 'X' }), sentinel: ErrBadMagic, rtype: -1, length: -1, detail: "58 42 4e 02"},
		{name: "version 0", in: edit(v2, func(b []byte) { b[3] = 0 }), sentinel: ErrUnsupportedVersion, offset: 3, rtype: -1, length: -1, detail: "version 0"},
		{name: "version 4", in: edit(v2, func(b []byte) { b[3] = 4 }), sentinel: ErrUnsupportedVersion, offset: 3, rtype: -1, length: -1},
		{name: "prefix only", in: v2[:6], sentinel: ErrTruncated, offset: 0, rtype: -1, length: -1, detail: "metadata prefix"},
		{name: "metadata cut", in: v2[:200], sentinel: ErrTruncated, offset: 200, rtype: -1, length: -1, detail: "input ends after 192"},
		{name: "metadata length beyond input", in: edit(v2, func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 1<<25) }),
			sentinel: ErrTruncated, offset: int64(len(v2)), rtype: -1, length: -1},
		{name: "metadata length beyond limit", in: edit(v2, func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 1<<31) }),
			sentinel: ErrBadMetadata, offset: 4, rtype: -1, length: -1, detail: "limit"},
		{name: "metadata shorter than fixed part", in: edit(v2, func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 50) }),
			sentinel: ErrBadMetadata, offset: prefixLen, rtype: -1, length: -1, detail: "fixed part"},
		{name: "symbol count beyond metadata", in: edit(v2, func(b []byte) { binary.LittleEndian.PutUint32(b[prefixLen+104:], 1<<30) }),
			sentinel: ErrBadMetadata, offset: prefixLen + 104, rtype: -1, length: -1, detail: "symbols count 1073741824"},
		{name: "v1 mapping count beyond metadata", in: edit(v1, func(b []byte) {
			binary.LittleEndian.PutUint32(b[prefixLen+104+4+22+4+4:], 1000)
		}), sentinel: ErrBadMetadata, offset: prefixLen + 104 + 4 + 22 + 4 + 4, rtype: -1, length: -1, detail: "mappings count 1000"},
		{name: "symbol_cstr_len 0", in: edit(v2, func(b []byte) { binary.LittleEndian.PutUint16(b[prefixLen+45:], 0) }),
			sentinel: ErrBadMetadata, offset: prefixLen + 45, rtype: -1, length: -1},
		{name: "record length 0", in: edit(v2, func(b []byte) { b[metaEnd] = 0 }),
			sentinel: ErrBadRecord, offset: int64(metaEnd), rtype: 0xa0, length: 0, detail: "16-byte header"},
		{name: "record shorter than header", in: edit(v2, func(b []byte) { b[metaEnd] = 3 }),
			sentinel: ErrBadRecord, offset: int64(metaEnd), rtype: 0xa0, length: 12},
		{name: "MBO shorter than its rtype", in: edit(v2, func(b []byte) { b[metaEnd+mboLen] = 10 }),
			sentinel: ErrBadRecord, offset: int64(metaEnd + mboLen), rtype: 0xa0, length: 40, detail: "56 bytes a version 2 mbo", records: 1},
		{name: "v1 definition of v2 size is fine, v2 of v1 size is not",
			in:       append(bytes.Clone(v2[:metaEnd]), append([]byte{360 / 4, byte(RTypeInstrumentDef)}, make([]byte, 358)...)...),
			sentinel: ErrBadRecord, offset: int64(metaEnd), rtype: 0x13, length: 360, detail: "400 bytes"},
		{name: "record cut", in: v2[:len(v2)-10], sentinel: ErrTruncated, offset: int64(metaEnd + mboLen), rtype: 0xa0, length: mboLen,
			detail: "46 bytes into the record", records: 1},
		{name: "record cut in header", in: v2[:metaEnd+1], sentinel: ErrTruncated, offset: int64(metaEnd), rtype: -1, length: mboLen},
		{name: "v1 record cut", in: v1[:v1MetaEnd+3*mboLen+20], sentinel: ErrTruncated, offset: int64(v1MetaEnd + 3*mboLen), rtype: 0xa0, length: mboLen, records: 3},
		{name: "zstd garbage", in: append(bytes.Clone(zstdMagic[:]), "not a frame at all"...), sentinel: ErrCorrupt, rtype: -1, length: -1},
		{name: "zstd cut", in: comp[:len(comp)/2], sentinel: ErrTruncated, offset: 131246, rtype: 0xa0, length: mboLen,
			detail: "compressed input ends inside a frame", records: 2340},
		{name: "zstd corrupt", in: edit(comp, func(b []byte) {
			for i := 20000; i < 20010; i++ {
				b[i] ^= 0xFF
			}
		}), sentinel: ErrCorrupt, offset: 131246, rtype: 0xa0, length: mboLen, records: 2340},
		{name: "zstd trailing garbage", in: append(bytes.Clone(comp), 1, 2, 3, 4, 5, 6, 7, 8), sentinel: ErrCorrupt,
			offset: int64(len(v1)), rtype: -1, length: -1, detail: "magic number mismatch", records: 8725},
		{name: "read error", reader: func() *chunkReader { return &chunkReader{b: v2[:metaEnd+20], err: netErr} },
			sentinel: netErr, offset: int64(metaEnd), rtype: 0xa0, length: mboLen},
		{name: "read error in metadata", reader: func() *chunkReader { return &chunkReader{b: v2[:100], err: netErr} },
			sentinel: netErr, offset: 100, rtype: -1, length: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in io.Reader = bytes.NewReader(tc.in)
			if tc.reader != nil {
				in = tc.reader()
			}
			n, err := countRecords(in)
			var e *Error
			if !errors.Is(err, tc.sentinel) || !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error wrapping %v", err, tc.sentinel)
			}
			if e.Offset != tc.offset || e.RType != tc.rtype || e.Length != tc.length || n != tc.records {
				t.Fatalf("got offset %d rtype %d length %d after %d records, want %d %d %d %d\n%v",
					e.Offset, e.RType, e.Length, n, tc.offset, tc.rtype, tc.length, tc.records, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("offset %d", tc.offset)) || !strings.Contains(msg, tc.detail) ||
				(tc.rtype >= 0 && !strings.Contains(msg, fmt.Sprintf("rtype 0x%02x", tc.rtype))) {
				t.Fatalf("message %q lacks offset, rtype or %q", msg, tc.detail)
			}
		})
	}
}

func TestShortTickBuffer(t *testing.T) {
	r, err := NewReader(bytes.NewReader(readShared(t, "test_data.mbo.dbn")))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSource(r, record.NewSymbols(), SourceOptions{})
	if _, err := s.Next(nil); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("got %v", err)
	}
}
