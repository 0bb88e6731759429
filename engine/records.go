package engine

import (
	"encoding/binary"
	"fmt"
)

// Journal record kinds. The numbers are on disk: never renumber.
const (
	RecMeta   uint8 = 1 // the run's profile (YAML) and format version; first record of a run
	RecSymbol uint8 = 2 // u32 id, then the symbol's name; before the first tick naming it
	RecTick   uint8 = 3 // record.AppendTick
	RecReject uint8 = 4 // record.AppendReject: rejects and anomalies (gaps, late ticks)
	RecWindow uint8 = 5 // window.AppendWindowRecord
	RecLabel  uint8 = 6 // window.AppendLabel
	RecTrace  uint8 = 7 // decision traces (reserved for the router)
	RecEdge   uint8 = 8 // lineage edges (reserved for the router)
	RecEnd    uint8 = 9 // JSON summary of the run (counts and digests); last record
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
