package window

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The canonical binary encodings below are what window and label hashes are
// computed over, and what the journal stores. Fixed field order, fixed-width
// little-endian numbers, floats as their IEEE-754 bits. Changing any of this
// changes every hash: it is a breaking change, and bumps the version byte.
//
// FeatureWindow, version 1 (all hashed):
//
//	"TLFW" | version u8 = 1 | kind u8 | recipe u8 | schema_version u16
//	| tenant: len u8, bytes | key (symbol): len u8, bytes
//	| start i64 | end i64
//	| n u8 | n × (feature id u8, value f64)
//	| label: horizon i64, type u8, threshold_bps f64
//	| provenance: first_inseq u64, last_inseq u64, ticks u32
//
// A window of kind edgar continues (hashed) with its extension: len u32,
// bytes (opaque here: the EDGAR provenance of hotpath/filing). Market
// windows have none, so their encoding is unchanged.
//
// The journal record appends the window id (16 bytes) and status (u8),
// which are derived or change over the window's life and are not hashed.
//
// LabelFill, version 1 (all hashed):
//
//	"TLLB" | version u8 = 1 | window_id [16] | end i64
//	| label: horizon i64, type u8, threshold_bps f64
//	| valid u8 | mid_end f64 | mid_target f64 | value f64
//	| key (symbol): len u8, bytes
const (
	windowMagic   = "TLFW"
	labelMagic    = "TLLB"
	encVersion    = 1
	maxNameLen    = 255
	MaxWindowSize = 4 + 1 + 1 + 1 + 2 + 1 + maxNameLen + 1 + maxNameLen + 8 + 8 + 1 + NumFeatures*9 + 8 + 1 + 8 + 8 + 8 + 4 + 16 + 1
	MaxLabelSize  = 4 + 1 + 16 + 8 + 8 + 1 + 8 + 1 + 8 + 8 + 8 + 1 + maxNameLen
)

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt window record")

type enc struct {
	b []byte
}

func (e *enc) u8(v uint8)    { e.b = append(e.b, v) }
func (e *enc) u16(v uint16)  { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *enc) u32(v uint32)  { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *enc) i64(v int64)   { e.u64(uint64(v)) }
func (e *enc) f64(v float64) { e.u64(math.Float64bits(v)) }
func (e *enc) str(s string) {
	if len(s) > maxNameLen {
		s = s[:maxNameLen]
	}
	e.u8(uint8(len(s)))
	e.b = append(e.b, s...)
}
func (e *enc) label(l LabelSpec) {
	e.i64(l.Horizon)
	e.u8(uint8(l.Type))
	e.f64(l.ThresholdBps)
}

// AppendWindow appends the hashed canonical encoding of w to dst. It does
// not allocate when dst has room for MaxWindowSize more bytes.
func AppendWindow(dst []byte, w *FeatureWindow, tenant, key string) []byte {
	e := enc{b: dst}
	e.b = append(e.b, windowMagic...)
	e.u8(encVersion)
	e.u8(uint8(w.Kind))
	e.u8(uint8(w.Recipe))
	e.u16(w.SchemaVersion)
	e.str(tenant)
	e.str(key)
	e.i64(w.Start)
	e.i64(w.End)
	fs := w.Recipe.Features()
	e.u8(uint8(len(fs)))
	for _, f := range fs {
		e.u8(uint8(f))
		e.f64(w.Features[f.Slot()])
	}
	e.label(w.Label)
	e.u64(w.FirstInSeq)
	e.u64(w.LastInSeq)
	e.u32(w.Ticks)
	return e.b
}

// AppendWindowExt appends the hashed canonical encoding of an EDGAR window
// with its extension ext (see the format above). For a market window it is
// AppendWindow and ext must be empty.
func AppendWindowExt(dst []byte, w *FeatureWindow, tenant, key string, ext []byte) []byte {
	dst = AppendWindow(dst, w, tenant, key)
	if w.Kind != KindEdgar {
		return dst
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ext)))
	return append(dst, ext...)
}

// AppendWindowRecord appends the journal form of w: the hashed encoding,
// then the id and status.
func AppendWindowRecord(dst []byte, w *FeatureWindow, tenant, key string) []byte {
	return AppendWindowRecordExt(dst, w, tenant, key, nil)
}

// AppendWindowRecordExt is AppendWindowRecord for a window with an
// extension (kind edgar).
func AppendWindowRecordExt(dst []byte, w *FeatureWindow, tenant, key string, ext []byte) []byte {
	dst = AppendWindowExt(dst, w, tenant, key, ext)
	dst = append(dst, w.ID[:]...)
	return append(dst, uint8(w.Status))
}

// AppendLabel appends the hashed canonical encoding of l.
func AppendLabel(dst []byte, l *LabelFill, key string) []byte {
	e := enc{b: dst}
	e.b = append(e.b, labelMagic...)
	e.u8(encVersion)
	e.b = append(e.b, l.WindowID[:]...)
	e.i64(l.End)
	e.label(l.Label)
	if l.Valid {
		e.u8(1)
	} else {
		e.u8(0)
	}
	e.f64(l.MidEnd)
	e.f64(l.MidTarget)
	e.f64(l.Value)
	e.str(key)
	return e.b
}

// WindowID derives the id of a window from what identifies it, as a UUID
// (version 8, RFC 9562): the same window in any run has the same id.
func WindowID(tenant string, kind WindowKind, key string, start, end int64, r Recipe) [16]byte {
	var buf [8 + 2*(1+maxNameLen) + 1 + 16 + 1]byte
	e := enc{b: buf[:0]}
	e.b = append(e.b, "TLFW-ID:"...)
	e.str(tenant)
	e.u8(uint8(kind))
	e.str(key)
	e.i64(start)
	e.i64(end)
	e.u8(uint8(r))
	sum := sha256.Sum256(e.b)
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x80 // version 8
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}

// FormatUUID renders a 16-byte id in the canonical 8-4-4-4-12 form.
func FormatUUID(id [16]byte) string {
	const hex = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, b := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hex[b>>4], hex[b&0xf]
		j += 2
	}
	return string(out[:])
}

type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) need(n int, what string) bool {
	if d.err != nil {
		return false
	}
	if len(d.b)-d.off < n {
		d.err = fmt.Errorf("%w: %s: need %d bytes at offset %d, have %d", ErrCorrupt, what, n, d.off, len(d.b)-d.off)
		return false
	}
	return true
}
func (d *dec) u8(what string) uint8 {
	if !d.need(1, what) {
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}
func (d *dec) u16(what string) uint16 {
	if !d.need(2, what) {
		return 0
	}
	v := binary.LittleEndian.Uint16(d.b[d.off:])
	d.off += 2
	return v
}
func (d *dec) u32(what string) uint32 {
	if !d.need(4, what) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}
func (d *dec) u64(what string) uint64 {
	if !d.need(8, what) {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}
func (d *dec) i64(what string) int64   { return int64(d.u64(what)) }
func (d *dec) f64(what string) float64 { return math.Float64frombits(d.u64(what)) }
func (d *dec) str(what string) string {
	n := int(d.u8(what))
	if !d.need(n, what) {
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s
}
func (d *dec) bytes(dst []byte, what string) {
	if d.need(len(dst), what) {
		copy(dst, d.b[d.off:])
		d.off += len(dst)
	}
}
func (d *dec) magic(m string) {
	if d.need(len(m)+1, "magic") {
		if string(d.b[d.off:d.off+len(m)]) != m {
			d.err = fmt.Errorf("%w: bad magic %q, want %q", ErrCorrupt, d.b[d.off:d.off+len(m)], m)
			return
		}
		d.off += len(m)
		if v := d.b[d.off]; v != encVersion {
			d.err = fmt.Errorf("%w: %s version %d, want %d", ErrCorrupt, m, v, encVersion)
			return
		}
		d.off++
	}
}
func (d *dec) label(what string) LabelSpec {
	return LabelSpec{Horizon: d.i64(what), Type: LabelType(d.u8(what)), ThresholdBps: d.f64(what)}
}

// DecodedWindow is a window read back from its journal record.
type DecodedWindow struct {
	Window FeatureWindow // Symbol is 0: the key is given by name
	Tenant string
	Key    string
	// Ext is the extension of an EDGAR window (a sub-slice of the record).
	Ext []byte
	// Hash is the sha256 of the hashed part of the record as stored.
	Hash [32]byte
}

// DecodeWindowRecord parses a record written by AppendWindowRecord. It
// never panics on bad bytes; every error wraps ErrCorrupt.
func DecodeWindowRecord(b []byte) (DecodedWindow, error) {
	var out DecodedWindow
	w := &out.Window
	d := dec{b: b}
	d.magic(windowMagic)
	w.Kind = WindowKind(d.u8("kind"))
	w.Recipe = Recipe(d.u8("recipe"))
	w.SchemaVersion = d.u16("schema_version")
	out.Tenant = d.str("tenant")
	out.Key = d.str("key")
	w.Start = d.i64("start")
	w.End = d.i64("end")
	n := int(d.u8("feature count"))
	if d.err == nil && !w.Recipe.Valid() {
		return out, fmt.Errorf("%w: recipe %d", ErrCorrupt, w.Recipe)
	}
	if d.err == nil && n != len(w.Recipe.Features()) {
		return out, fmt.Errorf("%w: %d features, recipe %s has %d", ErrCorrupt, n, w.Recipe, len(w.Recipe.Features()))
	}
	for i := 0; i < n && d.err == nil; i++ {
		f := Feature(d.u8("feature id"))
		v := d.f64("feature value")
		if d.err == nil && f != w.Recipe.Features()[i] {
			return out, fmt.Errorf("%w: feature %d is %d, recipe %s wants %d", ErrCorrupt, i, f, w.Recipe, w.Recipe.Features()[i])
		}
		if s := f.Slot(); s >= 0 {
			w.Features[s] = v
		}
	}
	w.Label = d.label("label")
	w.FirstInSeq = d.u64("first_inseq")
	w.LastInSeq = d.u64("last_inseq")
	w.Ticks = d.u32("ticks")
	if w.Kind == KindEdgar {
		n := int(d.u32("extension length"))
		if d.need(n, "extension") {
			out.Ext = b[d.off : d.off+n : d.off+n]
			d.off += n
		}
	}
	hashed := d.off
	d.bytes(w.ID[:], "id")
	w.Status = Status(d.u8("status"))
	if d.err != nil {
		return out, d.err
	}
	if d.off != len(b) {
		return out, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(b)-d.off)
	}
	out.Hash = sha256.Sum256(b[:hashed])
	w.Hash = out.Hash
	return out, nil
}

// DecodedLabel is a label fill read back from its journal record.
type DecodedLabel struct {
	Label LabelFill
	Key   string
}

// DecodeLabel parses a record written by AppendLabel; errors wrap ErrCorrupt.
func DecodeLabel(b []byte) (DecodedLabel, error) {
	var out DecodedLabel
	l := &out.Label
	d := dec{b: b}
	d.magic(labelMagic)
	d.bytes(l.WindowID[:], "window_id")
	l.End = d.i64("end")
	l.Label = d.label("label")
	l.Valid = d.u8("valid") == 1
	l.MidEnd = d.f64("mid_end")
	l.MidTarget = d.f64("mid_target")
	l.Value = d.f64("value")
	out.Key = d.str("key")
	if d.err != nil {
		return out, d.err
	}
	if d.off != len(b) {
		return out, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(b)-d.off)
	}
	l.Hash = sha256.Sum256(b)
	return out, nil
}
