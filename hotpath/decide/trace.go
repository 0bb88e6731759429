package decide

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"thunderline/hotpath/codec"
)

// Limits of the fixed-size DecisionTrace.
const (
	MaxLayers       = 4  // router layers
	MaxKept         = 8  // experts kept per token per layer (the router's cap must not exceed it)
	MaxGates        = 64 // experts of the final layer whose gate scores a trace records
	BehaviorDim     = 16 // bytes of the behavior embedding
	NumActions      = 3
	ActionBuy       = 0
	ActionSell      = 1
	ActionHold      = 2
	ActionAbstain   = 3
	maxTraceNameLen = codec.MaxName8
	traceMagic      = "TLDT"
	traceVersion    = 1
	edgeMagic       = "TLLE"
)

// ActionName names an action code.
func ActionName(a uint8) string {
	switch a {
	case ActionBuy:
		return "buy"
	case ActionSell:
		return "sell"
	case ActionHold:
		return "hold"
	case ActionAbstain:
		return "abstain"
	}
	return "invalid"
}

// Risk flags of a trace (a bit set).
const (
	RiskHalted       uint32 = 1 << iota // the (tenant, symbol) is in the deny map, or the kill switch is on
	RiskPositionCap                     // the action would take the position past its limit
	RiskNoMarket                        // no mid price to trade at
	RiskBreachForced                    // high-latency experts forced to abstain after repeated breaches
	RiskAllAbstained                    // every selected expert abstained
)

var riskNames = []string{"halted", "position_cap", "no_market", "breach_forced_abstain", "all_abstained"}

// RiskNames lists the names of the flags set in f.
func RiskNames(f uint32) []string {
	var out []string
	for i, n := range riskNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// ExpertAction is one expert's contribution to a decision.
type ExpertAction struct {
	Expert     uint16 // index in its layer
	Layer      uint8
	Abstain    bool
	Gate       float32 // the router's gate weight for this token
	Scores     [NumActions]float32
	Confidence float32
	LatencyNs  int64 // measured, not hashed
}

// DecisionTrace is seed 004 §3 DecisionTrace in fixed-size form. Tenant and
// the symbol's name are added by the encoder.
type DecisionTrace struct {
	ID            [16]byte // derived from the window id and the router version
	WindowID      [16]byte
	WindowHash    [32]byte
	Hash          [32]byte
	RouterVersion uint64
	Symbol        uint32
	End           int64 // the window's end, event time
	Layers        uint8
	NGates        uint8
	// Gates are the final layer's softmax probabilities of this token, by
	// expert index (the gate_scores of the seed).
	Gates [MaxGates]float32
	// Selected experts per layer, in descending gate order, with their
	// actions (hidden-layer experts' Scores are zero).
	NSel    [MaxLayers]uint8
	Actions [MaxLayers][MaxKept]ExpertAction
	// The blended action: the gate-weighted vote of the final layer.
	Proposed   uint8 // before risk
	Action     uint8 // after risk: abstain when a risk flag is set
	Scores     [NumActions]float32
	Confidence float32
	RiskFlags  uint32
	// Paper-trading snapshot after this decision.
	Position int64   // units held in the symbol
	Mid      float64 // mark price
	PnL      float64 // symbol's mark-to-market PnL
	Behavior [BehaviorDim]int8
	// Shadow experts' decisions (not in the blend, not in Hash: each has
	// its own hash, see AppendShadow).
	NShadow uint8
	Shadows [MaxShadow]ShadowAction
	// Measured, not hashed: wall-clock nanoseconds from window close to
	// trace, and the batch size the window was routed in.
	LatencyNs int64
	Batch     uint16
	// Ordering, not hashed nor encoded: the journal writes the trace after
	// the tick with ingest sequence AfterIn and after the first AfterOuts
	// outputs (its window among them) that the stage passed on.
	AfterIn   uint64
	AfterOuts uint64
}

// Hashed fields, in this order (version 1): magic, version, tenant, key,
// window id, window hash, router version, end, layers, n gates, gates, per
// layer: n selected, then per selected expert: layer, expert, abstain,
// gate, scores, confidence; proposed, action, scores, confidence, risk
// flags, position, mid, pnl, behavior. Latencies and the batch size are
// measurements and stay out of the hash; the trace id is derived, and the
// journal record appends it (with the latencies) after the hashed part.
func appendTraceHashed(dst []byte, t *DecisionTrace, tenant, key string) []byte {
	a := codec.Appender{B: dst}
	a.Magic(traceMagic, traceVersion)
	a.Name8(tenant)
	a.Name8(key)
	appendWindowRef(&a, t)
	a.U8(t.Layers)
	a.U8(t.NGates)
	for i := range int(t.NGates) {
		a.F32(t.Gates[i])
	}
	for l := range int(t.Layers) {
		a.U8(t.NSel[l])
		for k := range int(t.NSel[l]) {
			x := &t.Actions[l][k]
			a.U8(x.Layer)
			a.U16(x.Expert)
			a.Bool(x.Abstain)
			a.F32(x.Gate)
			appendScores(&a, x.Scores, x.Confidence)
		}
	}
	a.U8(t.Proposed)
	a.U8(t.Action)
	appendScores(&a, t.Scores, t.Confidence)
	a.U32(t.RiskFlags)
	a.I64(t.Position)
	a.F64(t.Mid)
	a.F64(t.PnL)
	for _, b := range t.Behavior {
		a.U8(uint8(b))
	}
	return a.B
}

// The trace and its shadow decisions share these pieces: the record's
// head (magic, version, tenant, key), what it says of the routed window,
// and a vote (scores, confidence). The appenders are small enough to be
// inlined, which keeps the Appender in registers on the per-window path;
// the head is written in place, since a helper for it would not be.

func readHead(r *codec.Reader, magic string, version uint8) (tenant, key string) {
	r.Magic(magic, version)
	return r.Name8("tenant"), r.Name8("key")
}

func appendWindowRef(a *codec.Appender, t *DecisionTrace) {
	a.Raw(t.WindowID[:])
	a.Raw(t.WindowHash[:])
	a.U64(t.RouterVersion)
	a.I64(t.End)
}

func readWindowRef(r *codec.Reader, id *[16]byte, hash *[32]byte, version *uint64, end *int64) {
	r.Read(id[:], "window id")
	r.Read(hash[:], "window hash")
	*version = r.U64("router version")
	*end = r.I64("end")
}

// appendScores is unrolled: with a loop over the scores the trace encoding
// took 1% more instructions.
func appendScores(a *codec.Appender, scores [NumActions]float32, confidence float32) {
	a.F32(scores[ActionBuy])
	a.F32(scores[ActionSell])
	a.F32(scores[ActionHold])
	a.F32(confidence)
}

func _() {
	// appendScores writes exactly the three actions' scores.
	var x [1]struct{}
	_ = x[NumActions-3]
}

func readScores(r *codec.Reader, scores *[NumActions]float32) (confidence float32) {
	for i := range scores {
		scores[i] = r.F32("score")
	}
	return r.F32("confidence")
}

// MaxTraceSize bounds an encoded trace record.
const MaxTraceSize = 4 + 1 + 2*(1+maxTraceNameLen) + 16 + 32 + 8 + 8 + 2 + MaxGates*4 +
	MaxLayers*(1+MaxKept*(1+2+1+4+12+4)) + 2 + 12 + 4 + 4 + 24 + BehaviorDim +
	16 + 8 + 2 + MaxLayers*MaxKept*8

// HashTrace sets t.Hash from the canonical encoding, using scratch (which
// should have room for MaxTraceSize bytes) and returns the grown scratch.
func HashTrace(t *DecisionTrace, tenant, key string, scratch []byte) []byte {
	scratch = appendTraceHashed(scratch[:0], t, tenant, key)
	t.Hash = sha256.Sum256(scratch)
	return scratch
}

// TraceID derives a trace's id from its window and router version (UUIDv8).
func TraceID(windowID [16]byte, version uint64) [16]byte {
	var b [8 + 16 + 8]byte
	copy(b[:], "TLDT-ID:")
	copy(b[8:], windowID[:])
	binary.LittleEndian.PutUint64(b[24:], version)
	return codec.UUID8(sha256.Sum256(b[:]))
}

// AppendTraceRecord appends the journal form: the hashed encoding, then the
// id, the latency, the batch size and each expert's measured latency.
func AppendTraceRecord(dst []byte, t *DecisionTrace, tenant, key string) []byte {
	a := codec.Appender{B: appendTraceHashed(dst, t, tenant, key)}
	a.Raw(t.ID[:])
	a.I64(t.LatencyNs)
	a.U16(t.Batch)
	for l := range int(t.Layers) {
		for k := range int(t.NSel[l]) {
			a.I64(t.Actions[l][k].LatencyNs)
		}
	}
	return a.B
}

// ErrCorruptTrace is wrapped by every trace decoding error.
var ErrCorruptTrace = errors.New("corrupt trace record")

// DecodedTrace is a trace read back from its journal record.
type DecodedTrace struct {
	Trace  DecisionTrace // Symbol is 0: the key is given by name
	Tenant string
	Key    string
}

// DecodeTraceRecord parses a record written by AppendTraceRecord and
// recomputes its hash over the hashed part as stored. Never panics.
func DecodeTraceRecord(b []byte) (DecodedTrace, error) {
	var out DecodedTrace
	t := &out.Trace
	r := codec.NewReader(b, ErrCorruptTrace)
	out.Tenant, out.Key = readHead(&r, traceMagic, traceVersion)
	readWindowRef(&r, &t.WindowID, &t.WindowHash, &t.RouterVersion, &t.End)
	t.Layers = r.U8("layers")
	t.NGates = r.U8("gates")
	if t.Layers > MaxLayers || t.NGates > MaxGates {
		r.Failf("%d layers, %d gates", t.Layers, t.NGates)
		return out, r.Err()
	}
	for i := range int(t.NGates) {
		t.Gates[i] = r.F32("gate")
	}
	for l := range int(t.Layers) {
		t.NSel[l] = r.U8("selected")
		if t.NSel[l] > MaxKept {
			r.Failf("layer %d selects %d experts", l, t.NSel[l])
			return out, r.Err()
		}
		for k := range int(t.NSel[l]) {
			x := &t.Actions[l][k]
			x.Layer = r.U8("layer")
			x.Expert = r.U16("expert")
			x.Abstain = r.Bool("abstain")
			x.Gate = r.F32("gate")
			x.Confidence = readScores(&r, &x.Scores)
		}
	}
	t.Proposed = r.U8("proposed")
	t.Action = r.U8("action")
	t.Confidence = readScores(&r, &t.Scores)
	t.RiskFlags = r.U32("risk flags")
	t.Position = r.I64("position")
	t.Mid = r.F64("mid")
	t.PnL = r.F64("pnl")
	for i := range t.Behavior {
		t.Behavior[i] = int8(r.U8("behavior"))
	}
	hashed := r.Off()
	r.Read(t.ID[:], "id")
	t.LatencyNs = r.I64("latency")
	t.Batch = r.U16("batch")
	for l := range int(t.Layers) {
		for k := range int(t.NSel[l]) {
			t.Actions[l][k].LatencyNs = r.I64("expert latency")
		}
	}
	if err := r.End(); err != nil {
		return out, err
	}
	t.Hash = sha256.Sum256(b[:hashed])
	return out, nil
}

// Edge is a lineage edge (seed 004 §4 ThunderDAG): from → to, typed.
type Edge struct {
	From, To [16]byte
	Type     uint8
	At       int64 // event time
}

// Edge types.
const (
	EdgeWindowTrace uint8 = 1 // a window was decided by a trace
	EdgeTraceExpert uint8 = 2 // a trace used an expert (To is the expert's id)
	EdgeDocWindow   uint8 = 3 // an EDGAR document opened a window (From is the document's id)
	EdgeDocFill     uint8 = 4 // an EDGAR document filled an open window (Partial→Fill)
)

// AppendEdge appends the journal form of an edge.
func AppendEdge(dst []byte, e *Edge) []byte {
	dst = append(dst, edgeMagic...)
	dst = append(dst, e.From[:]...)
	dst = append(dst, e.To[:]...)
	dst = append(dst, e.Type)
	return binary.LittleEndian.AppendUint64(dst, uint64(e.At))
}

// DecodeEdge parses an edge record.
func DecodeEdge(b []byte) (Edge, error) {
	var e Edge
	if len(b) != 4+16+16+1+8 || string(b[:4]) != edgeMagic {
		return e, fmt.Errorf("%w: edge record of %d bytes", ErrCorruptTrace, len(b))
	}
	copy(e.From[:], b[4:])
	copy(e.To[:], b[20:])
	e.Type = b[36]
	e.At = int64(binary.LittleEndian.Uint64(b[37:]))
	return e, nil
}

// ExpertID derives a stable id for an expert from its layer and name.
func ExpertID(layer int, name string) [16]byte {
	return codec.UUID8(sha256.Sum256([]byte(fmt.Sprintf("TLEX-ID:%d:%s", layer, name))))
}
