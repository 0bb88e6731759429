package decide

import (
	"crypto/sha256"

	"thunderline/hotpath/codec"
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
	x := &t.Shadows[k]
	a := codec.Appender{B: dst}
	a.Magic(shadowMagic, shadowVersion)
	a.Name8(tenant)
	a.Name8(key)
	a.Raw(t.ID[:])
	appendWindowRef(&a, t)
	a.U16(x.Expert)
	a.Raw(expertID[:])
	a.Bool(x.Abstain)
	appendScores(&a, x.Scores, x.Confidence)
	return a.B
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
	r := codec.NewReader(b, ErrCorruptTrace)
	out.Tenant, out.Key = readHead(&r, shadowMagic, shadowVersion)
	r.Read(out.TraceID[:], "trace id")
	readWindowRef(&r, &out.WindowID, &out.WindowHash, &out.RouterVersion, &out.End)
	x := &out.Action
	x.Expert = r.U16("expert")
	r.Read(out.ExpertID[:], "expert id")
	x.Abstain = r.Bool("abstain")
	x.Confidence = readScores(&r, &x.Scores)
	if err := r.End(); err != nil {
		return out, err
	}
	out.Hash = sha256.Sum256(b)
	x.Hash = out.Hash
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
