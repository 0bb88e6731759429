package engine

import (
	"strings"
	"testing"

	"thunderline/hotpath/record"
)

// TestControlRecordChannel: a control record carries its feed channel (u16
// at the end); one written before feeds had channels (29 bytes) still
// reads, as channel 0; any other length is refused with its size named.
func TestControlRecordChannel(t *testing.T) {
	in := record.MarketTick{Kind: record.KindControl, Action: record.ControlGap, Seq: 1234, TsEvent: -5, Price: 77, Size: 9, Venue: 3}
	b := appendControl(nil, &in)
	if len(b) != 31 {
		t.Fatalf("%d bytes, want 31", len(b))
	}
	var got record.MarketTick
	if err := decodeControl(b, &got); err != nil || got != in {
		t.Fatalf("decoded %+v (%v), want %+v", got, err, in)
	}
	old := in
	old.Venue = 0
	if err := decodeControl(b[:29], &got); err != nil || got != old {
		t.Fatalf("a 29-byte control decoded %+v (%v), want %+v", got, err, old)
	}
	for _, n := range []int{0, 28, 30, 32} {
		buf := append(b[:len(b):len(b)], 0)
		if err := decodeControl(buf[:n], &got); err == nil || !strings.Contains(err.Error(), "bytes") {
			t.Fatalf("%d bytes: %v, want a refusal naming the size", n, err)
		}
	}
}
