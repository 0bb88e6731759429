package engine

import (
	"encoding/binary"
	"fmt"

	"thunderline/hotpath/record"
)

// Journal record kinds. The numbers are on disk: never renumber.
const (
	RecMeta        uint8 = 1  // the run's profile (YAML) and format version; first record of a run
	RecSymbol      uint8 = 2  // u32 id, then the symbol's name; before the first tick naming it
	RecTick        uint8 = 3  // record.AppendTick
	RecReject      uint8 = 4  // record.AppendReject: rejects and anomalies (gaps, late ticks)
	RecWindow      uint8 = 5  // window.AppendWindowRecord
	RecLabel       uint8 = 6  // window.AppendLabel
	RecTrace       uint8 = 7  // decision traces (reserved for the router)
	RecEdge        uint8 = 8  // lineage edges (reserved for the router)
	RecEnd         uint8 = 9  // JSON summary of the run (counts and digests); last record
	RecRouter      uint8 = 10 // a router config (YAML) a later control record switches to
	RecControl     uint8 = 11 // an in-band control: u8 type, u64 argument, i64 boundary, i64 value, u32 value
	RecEdgarRaw    uint8 = 12 // a chunk of a raw EDGAR document: u64 inseq, u32 chunk, u32 chunks, u8 kind, u16 name len, name, bytes
	RecEdgarDoc    uint8 = 13 // filing.AppendDoc: a parsed EDGAR document (raw_edgar_docs)
	RecEdgarReject uint8 = 14 // an EDGAR document that could not be read: u64 inseq, name, kind, reason (u32-length strings)
	RecShadow      uint8 = 15 // decide.AppendShadow: a shadow expert's decision on a routed window (never voting)
)

// KindName names a record kind for summaries.
func KindName(k uint8) string {
	switch k {
	case RecMeta:
		return "meta"
	case RecSymbol:
		return "symbol"
	case RecTick:
		return "tick"
	case RecReject:
		return "reject"
	case RecWindow:
		return "window"
	case RecLabel:
		return "label"
	case RecTrace:
		return "trace"
	case RecEdge:
		return "edge"
	case RecEnd:
		return "end"
	case RecRouter:
		return "router"
	case RecControl:
		return "control"
	case RecEdgarRaw:
		return "edgar_raw"
	case RecEdgarDoc:
		return "edgar_doc"
	case RecEdgarReject:
		return "edgar_reject"
	case RecShadow:
		return "shadow"
	}
	return fmt.Sprintf("kind_%d", k)
}

func appendSymbol(dst []byte, id uint32, name string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, id)
	return append(dst, name...)
}

func decodeSymbol(b []byte) (uint32, string, error) {
	if len(b) < 5 || len(b) > 4+255 {
		return 0, "", fmt.Errorf("symbol record of %d bytes: want 5 to 259", len(b))
	}
	return binary.LittleEndian.Uint32(b), string(b[4:]), nil
}

func appendControl(dst []byte, t *record.MarketTick) []byte {
	dst = append(dst, t.Action)
	dst = binary.LittleEndian.AppendUint64(dst, t.Seq)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(t.TsEvent))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(t.Price))
	return binary.LittleEndian.AppendUint32(dst, t.Size)
}

func decodeControl(b []byte, t *record.MarketTick) error {
	if len(b) != 29 {
		return fmt.Errorf("control record of %d bytes, want 29", len(b))
	}
	*t = record.MarketTick{Kind: record.KindControl, Action: b[0], Seq: binary.LittleEndian.Uint64(b[1:]),
		TsEvent: int64(binary.LittleEndian.Uint64(b[9:])), Price: int64(binary.LittleEndian.Uint64(b[17:])),
		Size: binary.LittleEndian.Uint32(b[25:])}
	switch t.Action {
	case record.ControlRouter, record.ControlRecipe, record.ControlWindow:
		return nil
	}
	return fmt.Errorf("control record of unknown type %q", t.Action)
}
