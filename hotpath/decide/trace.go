package decide

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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
	maxTraceNameLen = 255
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
}

// Hashed fields, in this order (version 1): magic, version, tenant, key,
// window id, window hash, router version, end, layers, n gates, gates, per
// layer: n selected, then per selected expert: layer, expert, abstain,
// gate, scores, confidence; proposed, action, scores, confidence, risk
// flags, position, mid, pnl, behavior. Latencies and the batch size are
// measurements and stay out of the hash; the trace id is derived, and the
// journal record appends it (with the latencies) after the hashed part.
func appendTraceHashed(dst []byte, t *DecisionTrace, tenant, key string) []byte {
	e := tenc{b: dst}
	e.b = append(e.b, traceMagic...)
	e.u8(traceVersion)
	e.str(tenant)
	e.str(key)
	e.b = append(e.b, t.WindowID[:]...)
	e.b = append(e.b, t.WindowHash[:]...)
	e.u64(t.RouterVersion)
	e.u64(uint64(t.End))
	e.u8(t.Layers)
	e.u8(t.NGates)
	for i := 0; i < int(t.NGates); i++ {
		e.f32(t.Gates[i])
	}
	for l := 0; l < int(t.Layers); l++ {
		e.u8(t.NSel[l])
		for k := 0; k < int(t.NSel[l]); k++ {
			a := &t.Actions[l][k]
			e.u8(a.Layer)
			e.u16(a.Expert)
			e.bool(a.Abstain)
			e.f32(a.Gate)
			for _, s := range a.Scores {
				e.f32(s)
			}
			e.f32(a.Confidence)
		}
	}
	e.u8(t.Proposed)
	e.u8(t.Action)
	for _, s := range t.Scores {
		e.f32(s)
	}
	e.f32(t.Confidence)
	e.u32(t.RiskFlags)
	e.u64(uint64(t.Position))
	e.u64(math.Float64bits(t.Mid))
	e.u64(math.Float64bits(t.PnL))
	for _, b := range t.Behavior {
		e.u8(uint8(b))
	}
	return e.b
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
	sum := sha256.Sum256(b[:])
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x80
	id[8] = id[8]&0x3f | 0x80
	return id
}

// AppendTraceRecord appends the journal form: the hashed encoding, then the
// id, the latency, the batch size and each expert's measured latency.
func AppendTraceRecord(dst []byte, t *DecisionTrace, tenant, key string) []byte {
	dst = appendTraceHashed(dst, t, tenant, key)
	e := tenc{b: dst}
	e.b = append(e.b, t.ID[:]...)
	e.u64(uint64(t.LatencyNs))
	e.u16(t.Batch)
	for l := 0; l < int(t.Layers); l++ {
		for k := 0; k < int(t.NSel[l]); k++ {
			e.u64(uint64(t.Actions[l][k].LatencyNs))
		}
	}
	return e.b
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
	d := tdec{b: b}
	if string(d.take(4, "magic")) != traceMagic || d.u8("version") != traceVersion {
		if d.err == nil {
			d.err = fmt.Errorf("%w: bad magic or version", ErrCorruptTrace)
		}
		return out, d.err
	}
	out.Tenant = d.str("tenant")
	out.Key = d.str("key")
	copy(t.WindowID[:], d.take(16, "window id"))
	copy(t.WindowHash[:], d.take(32, "window hash"))
	t.RouterVersion = d.u64("router version")
	t.End = int64(d.u64("end"))
	t.Layers = d.u8("layers")
	t.NGates = d.u8("gates")
	if d.err != nil {
		return out, d.err
	}
	if t.Layers > MaxLayers || t.NGates > MaxGates {
		return out, fmt.Errorf("%w: %d layers, %d gates", ErrCorruptTrace, t.Layers, t.NGates)
	}
	for i := 0; i < int(t.NGates); i++ {
		t.Gates[i] = d.f32("gate")
	}
	for l := 0; l < int(t.Layers) && d.err == nil; l++ {
		t.NSel[l] = d.u8("selected")
		if t.NSel[l] > MaxKept {
			return out, fmt.Errorf("%w: layer %d selects %d experts", ErrCorruptTrace, l, t.NSel[l])
		}
		for k := 0; k < int(t.NSel[l]); k++ {
			a := &t.Actions[l][k]
			a.Layer = d.u8("layer")
			a.Expert = d.u16("expert")
			switch ab := d.u8("abstain"); ab {
			case 0, 1:
				a.Abstain = ab == 1
			default:
				if d.err == nil {
					d.err = fmt.Errorf("%w: abstain flag %d", ErrCorruptTrace, ab)
				}
			}
			a.Gate = d.f32("gate")
			for i := range a.Scores {
				a.Scores[i] = d.f32("score")
			}
			a.Confidence = d.f32("confidence")
		}
	}
	t.Proposed = d.u8("proposed")
	t.Action = d.u8("action")
	for i := range t.Scores {
		t.Scores[i] = d.f32("score")
	}
	t.Confidence = d.f32("confidence")
	t.RiskFlags = d.u32("risk flags")
	t.Position = int64(d.u64("position"))
	t.Mid = math.Float64frombits(d.u64("mid"))
	t.PnL = math.Float64frombits(d.u64("pnl"))
	for i := range t.Behavior {
		t.Behavior[i] = int8(d.u8("behavior"))
	}
	hashed := d.off
	copy(t.ID[:], d.take(16, "id"))
	t.LatencyNs = int64(d.u64("latency"))
	t.Batch = d.u16("batch")
	for l := 0; l < int(t.Layers); l++ {
		for k := 0; k < int(t.NSel[l]); k++ {
			t.Actions[l][k].LatencyNs = int64(d.u64("expert latency"))
		}
	}
	if d.err != nil {
		return out, d.err
	}
	if d.off != len(b) {
		return out, fmt.Errorf("%w: %d trailing bytes", ErrCorruptTrace, len(b)-d.off)
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
	sum := sha256.Sum256([]byte(fmt.Sprintf("TLEX-ID:%d:%s", layer, name)))
	var id [16]byte
	copy(id[:], sum[:16])
	id[6] = id[6]&0x0f | 0x80
	id[8] = id[8]&0x3f | 0x80
	return id
}

type tenc struct{ b []byte }

func (e *tenc) u8(v uint8)    { e.b = append(e.b, v) }
func (e *tenc) u16(v uint16)  { e.b = binary.LittleEndian.AppendUint16(e.b, v) }
func (e *tenc) u32(v uint32)  { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *tenc) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *tenc) f32(v float32) { e.u32(math.Float32bits(v)) }
func (e *tenc) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}
func (e *tenc) str(s string) {
	if len(s) > maxTraceNameLen {
		s = s[:maxTraceNameLen]
	}
	e.u8(uint8(len(s)))
	e.b = append(e.b, s...)
}

type tdec struct {
	b   []byte
	off int
	err error
}

func (d *tdec) take(n int, what string) []byte {
	if d.err != nil {
		return make([]byte, n)
	}
	if len(d.b)-d.off < n {
		d.err = fmt.Errorf("%w: %s: need %d bytes at offset %d, have %d", ErrCorruptTrace, what, n, d.off, len(d.b)-d.off)
		return make([]byte, n)
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s
}
func (d *tdec) u8(what string) uint8   { return d.take(1, what)[0] }
func (d *tdec) u16(what string) uint16 { return binary.LittleEndian.Uint16(d.take(2, what)) }
func (d *tdec) u32(what string) uint32 { return binary.LittleEndian.Uint32(d.take(4, what)) }
func (d *tdec) u64(what string) uint64 { return binary.LittleEndian.Uint64(d.take(8, what)) }
func (d *tdec) f32(what string) float32 {
	return math.Float32frombits(d.u32(what))
}
func (d *tdec) str(what string) string { return string(d.take(int(d.u8(what)), what)) }
