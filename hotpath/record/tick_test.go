package record

import (
	"testing"
	"unsafe"
)

func TestTickSize(t *testing.T) {
	if got := unsafe.Sizeof(MarketTick{}); got != TickSize {
		t.Fatalf("sizeof(MarketTick) = %d, TickSize = %d", got, TickSize)
	}
}

func TestReasonNames(t *testing.T) {
	seen := map[string]bool{}
	for r := Reason(0); int(r) < NumReasons; r++ {
		n := r.String()
		if n == "" || n == "invalid" || seen[n] {
			t.Fatalf("reason %d has bad or duplicate name %q", r, n)
		}
		seen[n] = true
	}
	if Reason(200).String() != "invalid" {
		t.Fatal("out-of-range reason must name itself invalid")
	}
}

func TestSymbols(t *testing.T) {
	s := NewSymbols()
	a, _ := s.Intern("ESH4")
	b, _ := s.Intern("NQH4")
	a2, _ := s.Intern("ESH4")
	if a != 1 || b != 2 || a2 != a {
		t.Fatalf("ids = %d %d %d", a, b, a2)
	}
	if s.Name(b) != "NQH4" || s.Lookup("NQH4") != b || s.Known(0) || !s.Known(2) || s.Known(3) {
		t.Fatal("lookup mismatch")
	}
}

func TestTickCodec(t *testing.T) {
	in := MarketTick{TsEvent: 1, TsRecv: 2, Seq: 3, InSeq: 4, OrderID: 5, BidPx: 6, AskPx: 7, TradePx: 8,
		Price: -9, BidQty: 10, AskQty: 11, TradeQty: 12, Size: 13, Symbol: 14, Venue: 15, Flags: 16,
		Kind: KindOrder, Action: ActionAdd, Side: SideBid, Depth: 3}
	b := AppendTick(nil, &in)
	if len(b) != EncodedTickSize {
		t.Fatalf("len %d", len(b))
	}
	var out MarketTick
	if err := DecodeTick(b, &out); err != nil || out != in {
		t.Fatalf("%v %+v", err, out)
	}
	r := Reject{Tick: in, Reason: ReasonCrossed, Detail: -7}
	var r2 Reject
	if err := DecodeReject(AppendReject(nil, &r), &r2); err != nil || r2 != r {
		t.Fatalf("%v %+v", err, r2)
	}
	if err := DecodeTick(b[:10], &out); err == nil {
		t.Fatal("short tick decoded")
	}
	b[96] = 99
	if err := DecodeTick(b, &out); err == nil {
		t.Fatal("bad kind decoded")
	}
}

func FuzzDecodeTick(f *testing.F) {
	in := MarketTick{Kind: KindQuote, Symbol: 1}
	f.Add(AppendTick(nil, &in))
	f.Add(AppendReject(nil, &Reject{Tick: in, Reason: ReasonLate}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var tk MarketTick
		if DecodeTick(b, &tk) == nil {
			if string(AppendTick(nil, &tk)) != string(b) {
				t.Fatal("tick does not re-encode to the same bytes")
			}
		}
		var r Reject
		DecodeReject(b, &r)
	})
}
