package runjournal

import "fmt"

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
	RecControl     uint8 = 11 // an in-band control: u8 type, u64 argument, i64 boundary, i64 value, u32 value, u16 feed channel (absent in older journals: 0)
	RecEdgarRaw    uint8 = 12 // a chunk of a raw EDGAR document: u64 inseq, u32 chunk, u32 chunks, u8 kind, u16 name len, name, bytes
	RecEdgarDoc    uint8 = 13 // filing.AppendDoc: a parsed EDGAR document (raw_edgar_docs)
	RecEdgarReject uint8 = 14 // an EDGAR document that could not be read: u64 inseq, name, kind, reason (u32-length strings)
	RecShadow      uint8 = 15 // decide.AppendShadow: a shadow expert's decision on a routed window (never voting)
	RecOperator    uint8 = 16 // an operator action (JSON) a later control record applies: kill switch, deny, expert ops
)

var kindNames = [...]string{RecMeta: "meta", RecSymbol: "symbol", RecTick: "tick", RecReject: "reject", RecWindow: "window",
	RecLabel: "label", RecTrace: "trace", RecEdge: "edge", RecEnd: "end", RecRouter: "router", RecControl: "control",
	RecEdgarRaw: "edgar_raw", RecEdgarDoc: "edgar_doc", RecEdgarReject: "edgar_reject", RecShadow: "shadow", RecOperator: "operator"}

// KindName names a record kind for summaries.
func KindName(k uint8) string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind_%d", k)
}
