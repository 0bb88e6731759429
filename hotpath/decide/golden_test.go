package decide

import (
	"testing"

	"thunderline/hotpath/codec/codectest"
)

// goldenTrace is a trace with two layers, gates, abstentions, negative
// numbers and measured latencies.
func goldenTrace() DecisionTrace {
	t := DecisionTrace{WindowID: [16]byte{0xa1, 2, 3}, WindowHash: [32]byte{0xb2, 4, 5, 31: 0xff}, RouterVersion: 7,
		Symbol: 3, End: 1_700_000_000_500_000_000, Layers: 2, NGates: 4,
		Gates: [MaxGates]float32{0.125, 0.5, 0.25, 0.125}, NSel: [MaxLayers]uint8{2, 1},
		Proposed: ActionBuy, Action: ActionAbstain, Scores: [NumActions]float32{0.6, 0.3, 0.1}, Confidence: 0.6,
		RiskFlags: RiskPositionCap | RiskBreachForced, Position: -3, Mid: 101.375, PnL: -12.5,
		Behavior: [BehaviorDim]int8{1, -2, 3, -128, 127}, LatencyNs: 123456, Batch: 17}
	t.Actions[0][0] = ExpertAction{Expert: 5, Layer: 0, Gate: 0.75, LatencyNs: 1000}
	t.Actions[0][1] = ExpertAction{Expert: 300, Layer: 0, Abstain: true, Gate: 0.25, LatencyNs: 2000}
	t.Actions[1][0] = ExpertAction{Expert: 2, Layer: 1, Gate: 1, Scores: [NumActions]float32{0.6, 0.3, 0.1},
		Confidence: 0.6, LatencyNs: -1}
	t.ID = TraceID(t.WindowID, t.RouterVersion)
	t.NShadow = 1
	t.Shadows[0] = ShadowAction{Expert: 1, Abstain: true, Scores: [NumActions]float32{0.2, 0.3, 0.5}, Confidence: 0.5}
	return t
}

// TestGoldenEncodings pins the canonical encodings byte for byte: the
// trace and shadow hashes and the journal records are computed over them.
func TestGoldenEncodings(t *testing.T) {
	tr := goldenTrace()
	codectest.Golden(t, "trace", AppendTraceRecord(nil, &tr, "acme", "ESZ6"))
	scratch := HashTrace(&tr, "acme", "ESZ6", nil)
	codectest.Golden(t, "trace_hash", tr.Hash[:])
	if len(scratch) == 0 {
		t.Fatal("HashTrace returned no scratch")
	}
	codectest.Golden(t, "trace_id", tr.ID[:])
	codectest.Golden(t, "shadow", AppendShadow(nil, &tr, 0, ExpertID(1, "fed-model"), "acme", "ESZ6"))
	codectest.Golden(t, "edge", AppendEdge(nil, &Edge{From: tr.WindowID, To: tr.ID, Type: EdgeWindowTrace, At: -5}))
	long := string(make([]byte, 300)) // names are cut at 255 bytes
	codectest.Golden(t, "trace_long_names", AppendTraceRecord(nil, &tr, long, long[:256]))
}
