package decide

import (
	"crypto/sha256"
	"fmt"

	"thunderline/hotpath/expert"
)

// MaxShadow is how many shadow experts a router version may run.
const MaxShadow = 2

// ShadowExpert is a candidate expert in shadow mode (a model trained by a
// federation, say): it is evaluated on every routed window's first-layer
// embedding and traced, but it never votes — the blended action, risk and
// the DecisionTrace hash are exactly what they would be without it.
type ShadowExpert struct {
	Name  string
	ID    [16]byte
	Guard *expert.Guard
}

// ShadowAction is what one shadow expert said about a window.
type ShadowAction struct {
	Expert     uint16 // index into Model.Shadow
	Abstain    bool
	Scores     [NumActions]float32
	Confidence float32
	// Hash is the sha256 of the shadow decision's canonical encoding
	// (AppendShadow): the trace it shadows, the expert, its output.
	Hash [32]byte
}

// Action is the shadow expert's proposed action (abstain when it had no
// opinion).
func (a *ShadowAction) Action() uint8 {
	if a.Abstain {
		return ActionAbstain
	}
	return argmax(a.Scores)
}

const (
	shadowMagic   = "TLSH"
	shadowVersion = 1
)

// AppendShadow appends the canonical encoding of shadow decision k of t
// (all hashed):
//
//	"TLSH" | version u8 = 1 | tenant, key: len u8, bytes | trace id [16]
//	| window id [16] | window hash [32] | router version u64 | end i64
//	| expert index u16 | expert id [16] | abstain u8 | scores 3×f32 | confidence f32
func AppendShadow(dst []byte, t *DecisionTrace, k int, expertID [16]byte, tenant, key string) []byte {
	a := &t.Shadows[k]
	e := tenc{b: dst}
	e.b = append(e.b, shadowMagic...)
	e.u8(shadowVersion)
	e.str(tenant)
	e.str(key)
	e.b = append(e.b, t.ID[:]...)
	e.b = append(e.b, t.WindowID[:]...)
	e.b = append(e.b, t.WindowHash[:]...)
	e.u64(t.RouterVersion)
	e.u64(uint64(t.End))
	e.u16(a.Expert)
	e.b = append(e.b, expertID[:]...)
	e.bool(a.Abstain)
	for _, s := range a.Scores {
		e.f32(s)
	}
	e.f32(a.Confidence)
	return e.b
}

// DecodedShadow is a shadow decision read back from its journal record.
type DecodedShadow struct {
	Tenant, Key       string
	TraceID, WindowID [16]byte
	WindowHash        [32]byte
	RouterVersion     uint64
	End               int64
	ExpertID          [16]byte
	Action            ShadowAction
	Hash              [32]byte
}

// DecodeShadow parses AppendShadow's encoding and recomputes its hash.
// Never panics; errors wrap ErrCorruptTrace.
func DecodeShadow(b []byte) (DecodedShadow, error) {
	var out DecodedShadow
	d := tdec{b: b}
	if string(d.take(4, "magic")) != shadowMagic || d.u8("version") != shadowVersion {
		if d.err == nil {
			d.err = fmt.Errorf("%w: bad shadow magic or version", ErrCorruptTrace)
		}
		return out, d.err
	}
	out.Tenant = d.str("tenant")
	out.Key = d.str("key")
	copy(out.TraceID[:], d.take(16, "trace id"))
	copy(out.WindowID[:], d.take(16, "window id"))
	copy(out.WindowHash[:], d.take(32, "window hash"))
	out.RouterVersion = d.u64("router version")
	out.End = int64(d.u64("end"))
	a := &out.Action
	a.Expert = d.u16("expert")
	copy(out.ExpertID[:], d.take(16, "expert id"))
	switch ab := d.u8("abstain"); ab {
	case 0, 1:
		a.Abstain = ab == 1
	default:
		if d.err == nil {
			d.err = fmt.Errorf("%w: abstain flag %d", ErrCorruptTrace, ab)
		}
	}
	for i := range a.Scores {
		a.Scores[i] = d.f32("score")
	}
	a.Confidence = d.f32("confidence")
	if d.err != nil {
		return out, d.err
	}
	if d.off != len(b) {
		return out, fmt.Errorf("%w: %d trailing bytes after a shadow decision", ErrCorruptTrace, len(b)-d.off)
	}
	out.Hash = sha256.Sum256(b)
	a.Hash = out.Hash
	return out, nil
}

// evalShadows runs m's shadow experts on token i's first-layer embedding.
func (s *Stage) evalShadows(m *Model, t *DecisionTrace, emb []float32, features []float64) {
	t.NShadow = 0
	for k, sh := range m.Shadow {
		if k == MaxShadow {
			break
		}
		s.in = expert.Input{Features: features, Embedding: emb, Symbol: t.Symbol, End: t.End}
		sh.Guard.Eval(&s.in, &s.shOut)
		t.Shadows[k] = ShadowAction{Expert: uint16(k), Abstain: s.shOut.Abstain, Scores: s.shOut.Scores, Confidence: s.shOut.Confidence}
		t.NShadow++
	}
}

// hashShadows sets each shadow decision's hash (after the trace's id).
func (s *Stage) hashShadows(m *Model, t *DecisionTrace, key string) {
	for k := 0; k < int(t.NShadow); k++ {
		s.shScratch = AppendShadow(s.shScratch[:0], t, k, m.Shadow[k].ID, s.cfg.Tenant, key)
		t.Shadows[k].Hash = sha256.Sum256(s.shScratch)
	}
}
