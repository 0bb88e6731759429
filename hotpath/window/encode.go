package window

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"

	"thunderline/hotpath/codec"
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
// bytes (opaque here: the EDGAR provenance of adapters/edgar/edgarrec). Market
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
	maxNameLen    = codec.MaxName8
	MaxWindowSize = 4 + 1 + 1 + 1 + 2 + 1 + maxNameLen + 1 + maxNameLen + 8 + 8 + 1 + NumFeatures*9 + 8 + 1 + 8 + 8 + 8 + 4 + 16 + 1
	MaxLabelSize  = 4 + 1 + 16 + 8 + 8 + 1 + 8 + 1 + 8 + 8 + 8 + 1 + maxNameLen
)

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt window record")

func appendLabelSpec(a *codec.Appender, l LabelSpec) {
	a.I64(l.Horizon)
	a.U8(uint8(l.Type))
	a.F64(l.ThresholdBps)
}

func readLabelSpec(r *codec.Reader, what string) LabelSpec {
	return LabelSpec{Horizon: r.I64(what), Type: LabelType(r.U8(what)), ThresholdBps: r.F64(what)}
}

// AppendWindow appends the hashed canonical encoding of w to dst. It does
// not allocate when dst has room for MaxWindowSize more bytes.
func AppendWindow(dst []byte, w *FeatureWindow, tenant, key string) []byte {
	a := codec.Appender{B: dst}
	a.Magic(windowMagic, encVersion)
	a.U8(uint8(w.Kind))
	a.U8(uint8(w.Recipe))
	a.U16(w.SchemaVersion)
	a.Name8(tenant)
	a.Name8(key)
	a.I64(w.Start)
	a.I64(w.End)
	fs := w.Recipe.Features()
	a.U8(uint8(len(fs)))
	for _, f := range fs {
		a.U8(uint8(f))
		a.F64(w.Features[f.Slot()])
	}
	appendLabelSpec(&a, w.Label)
	a.U64(w.FirstInSeq)
	a.U64(w.LastInSeq)
	a.U32(w.Ticks)
	return a.B
}

// AppendWindowExt appends the hashed canonical encoding of an EDGAR window
// with its extension ext (see the format above). For a market window it is
// AppendWindow and ext must be empty.
func AppendWindowExt(dst []byte, w *FeatureWindow, tenant, key string, ext []byte) []byte {
	a := codec.Appender{B: AppendWindow(dst, w, tenant, key)}
	if w.Kind == KindEdgar {
		a.U32(uint32(len(ext)))
		a.Raw(ext)
	}
	return a.B
}

// AppendWindowRecord appends the journal form of w: the hashed encoding,
// then the id and status.
func AppendWindowRecord(dst []byte, w *FeatureWindow, tenant, key string) []byte {
	return AppendWindowRecordExt(dst, w, tenant, key, nil)
}

// AppendWindowRecordExt is AppendWindowRecord for a window with an
// extension (kind edgar).
func AppendWindowRecordExt(dst []byte, w *FeatureWindow, tenant, key string, ext []byte) []byte {
	a := codec.Appender{B: AppendWindowExt(dst, w, tenant, key, ext)}
	a.Raw(w.ID[:])
	a.U8(uint8(w.Status))
	return a.B
}

// AppendLabel appends the hashed canonical encoding of l.
func AppendLabel(dst []byte, l *LabelFill, key string) []byte {
	a := codec.Appender{B: dst}
	a.Magic(labelMagic, encVersion)
	a.Raw(l.WindowID[:])
	a.I64(l.End)
	appendLabelSpec(&a, l.Label)
	a.Bool(l.Valid)
	a.F64(l.MidEnd)
	a.F64(l.MidTarget)
	a.F64(l.Value)
	a.Name8(key)
	return a.B
}

// WindowID derives the id of a window from what identifies it, as a UUID
// (version 8, RFC 9562): the same window in any run has the same id.
func WindowID(tenant string, kind WindowKind, key string, start, end int64, r Recipe) [16]byte {
	// Plain appends to a stack array (not an Appender, see AppendName8):
	// no allocation per window.
	var buf [8 + 2*(1+maxNameLen) + 1 + 16 + 1]byte
	b := append(buf[:0], "TLFW-ID:"...)
	b = codec.AppendName8(b, tenant)
	b = append(b, uint8(kind))
	b = codec.AppendName8(b, key)
	b = binary.LittleEndian.AppendUint64(b, uint64(start))
	b = binary.LittleEndian.AppendUint64(b, uint64(end))
	b = append(b, uint8(r))
	return codec.UUID8(sha256.Sum256(b))
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
	r := codec.NewReader(b, ErrCorrupt)
	r.Magic(windowMagic, encVersion)
	w.Kind = WindowKind(r.U8("kind"))
	w.Recipe = Recipe(r.U8("recipe"))
	w.SchemaVersion = r.U16("schema_version")
	out.Tenant = r.Name8("tenant")
	out.Key = r.Name8("key")
	w.Start = r.I64("start")
	w.End = r.I64("end")
	readFeatures(&r, w)
	w.Label = readLabelSpec(&r, "label")
	w.FirstInSeq = r.U64("first_inseq")
	w.LastInSeq = r.U64("last_inseq")
	w.Ticks = r.U32("ticks")
	if w.Kind == KindEdgar {
		out.Ext = r.Bytes(int(r.U32("extension length")), "extension")
	}
	hashed := r.Off()
	r.Read(w.ID[:], "id")
	w.Status = Status(r.U8("status"))
	if err := r.End(); err != nil {
		return out, err
	}
	out.Hash = sha256.Sum256(b[:hashed])
	w.Hash = out.Hash
	return out, nil
}

// readFeatures reads a window's features, refusing a recipe it does not
// know and features that are not its recipe's, in its order.
func readFeatures(r *codec.Reader, w *FeatureWindow) {
	n := int(r.U8("feature count"))
	if r.Err() != nil {
		return
	}
	if !w.Recipe.Valid() {
		r.Failf("recipe %d", w.Recipe)
		return
	}
	want := w.Recipe.Features()
	if n != len(want) {
		r.Failf("%d features, recipe %s has %d", n, w.Recipe, len(want))
		return
	}
	for i := 0; i < n && r.Err() == nil; i++ {
		f := Feature(r.U8("feature id"))
		v := r.F64("feature value")
		if r.Err() == nil && f != want[i] {
			r.Failf("feature %d is %d, recipe %s wants %d", i, f, w.Recipe, want[i])
			return
		}
		if s := f.Slot(); s >= 0 {
			w.Features[s] = v
		}
	}
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
	r := codec.NewReader(b, ErrCorrupt)
	r.Magic(labelMagic, encVersion)
	r.Read(l.WindowID[:], "window_id")
	l.End = r.I64("end")
	l.Label = readLabelSpec(&r, "label")
	l.Valid = r.Bool("valid")
	l.MidEnd = r.F64("mid_end")
	l.MidTarget = r.F64("mid_target")
	l.Value = r.F64("value")
	out.Key = r.Name8("key")
	if err := r.End(); err != nil {
		return out, err
	}
	l.Hash = sha256.Sum256(b)
	return out, nil
}
