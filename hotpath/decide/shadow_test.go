package decide

import (
	"errors"
	"testing"

	"thunderline/hotpath/codec/codectest"
)

func shadowSample() (DecisionTrace, [16]byte) {
	t := DecisionTrace{ID: [16]byte{1}, WindowID: [16]byte{2}, WindowHash: [32]byte{3}, RouterVersion: 4, End: 5, NShadow: 1}
	t.Shadows[0] = ShadowAction{Expert: 0, Scores: [NumActions]float32{0.2, 0.3, 0.5}, Confidence: 0.5}
	return t, [16]byte{9}
}

func TestShadowRoundTrip(t *testing.T) {
	tr, id := shadowSample()
	b := AppendShadow(nil, &tr, 0, id, "acme", "ESZ6")
	d, err := DecodeShadow(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Tenant != "acme" || d.Key != "ESZ6" || d.TraceID != tr.ID || d.ExpertID != id || d.Action.Scores != tr.Shadows[0].Scores ||
		d.Action.Action() != ActionHold {
		t.Fatalf("decoded %+v", d)
	}
	for i := range b {
		if _, err := DecodeShadow(b[:i]); !errors.Is(err, ErrCorruptTrace) {
			t.Fatalf("cut at %d: %v", i, err)
		}
	}
	tr.Shadows[0].Scores[0] = 0.25
	if d2, _ := DecodeShadow(AppendShadow(nil, &tr, 0, id, "acme", "ESZ6")); d2.Hash == d.Hash {
		t.Fatal("a changed score did not change the hash")
	}
}

func FuzzDecodeShadow(f *testing.F) {
	tr, id := shadowSample()
	f.Add(AppendShadow(nil, &tr, 0, id, "acme", "ESZ6"))
	f.Fuzz(func(t *testing.T, b []byte) {
		codectest.Reencodes(t, b, ErrCorruptTrace, DecodeShadow, func(d DecodedShadow) []byte {
			var tt DecisionTrace
			tt.ID, tt.WindowID, tt.WindowHash, tt.RouterVersion, tt.End = d.TraceID, d.WindowID, d.WindowHash, d.RouterVersion, d.End
			tt.NShadow, tt.Shadows[0] = 1, d.Action
			return AppendShadow(nil, &tt, 0, d.ExpertID, d.Tenant, d.Key)
		})
	})
}
