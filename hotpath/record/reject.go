package record

// Reason is why a tick was rejected, or what an anomaly was. Every reject
// carries one, is counted per reason, and is journaled.
type Reason uint8

const (
	ReasonNone          Reason = iota
	ReasonCrossed              // quote with bid > ask
	ReasonLocked               // quote with bid == ask
	ReasonBadSize              // zero or negative size where one is required
	ReasonBadPrice             // non-positive, undefined or out-of-band price
	ReasonUnknownSymbol        // symbol id not in the symbol table
	ReasonSeqGap               // anomaly, not a reject: sequence jumped forward
	ReasonSeqRegress           // anomaly, not a reject: sequence went backwards
	ReasonLate                 // event time behind the watermark: every window it belongs to has closed
	ReasonBadAction            // unknown action or side code
	ReasonBookFull             // the book's level or order table is full
	ReasonUnknownOrder         // cancel/modify/fill of an order the book does not hold
	ReasonDecode               // the adapter could not decode the input record
	numReasons
)

// NumReasons is the number of reason codes, for counter arrays.
const NumReasons = int(numReasons)

var reasonNames = [...]string{
	ReasonNone:          "none",
	ReasonCrossed:       "crossed",
	ReasonLocked:        "locked",
	ReasonBadSize:       "bad_size",
	ReasonBadPrice:      "bad_price",
	ReasonUnknownSymbol: "unknown_symbol",
	ReasonSeqGap:        "seq_gap",
	ReasonSeqRegress:    "seq_regress",
	ReasonLate:          "late",
	ReasonBadAction:     "bad_action",
	ReasonBookFull:      "book_full",
	ReasonUnknownOrder:  "unknown_order",
	ReasonDecode:        "decode",
}

// String returns the reason's stable name, used in summaries and metrics.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "invalid"
}

// IsAnomaly reports whether the reason is counted and journaled but the tick
// is still processed (sequence gaps and regressions).
func (r Reason) IsAnomaly() bool { return r == ReasonSeqGap || r == ReasonSeqRegress }

// Reject is a tick that was refused, with why. It is journaled as is.
type Reject struct {
	Tick   MarketTick
	Reason Reason
	Detail int64 // reason-specific: the expected seq for a gap, the watermark for late ticks
}
