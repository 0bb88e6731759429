package normalize

import (
	"testing"

	"thunderline/hotpath/record"
)

const px = 100 * record.PriceScale

func quote(bid, ask int64, bq, aq uint32) record.MarketTick {
	return record.MarketTick{Kind: record.KindQuote, Symbol: 1, BidPx: bid, AskPx: ask, BidQty: bq, AskQty: aq}
}

func TestCheckFields(t *testing.T) {
	v, err := NewValidator(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := func(name string, tk record.MarketTick, want record.Reason) {
		t.Helper()
		if got, _, _ := v.Check(&tk); got != want {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	f("good quote", quote(px, px+1, 1, 1), record.ReasonNone)
	f("one-sided quote", quote(px, record.UndefPrice, 1, 0), record.ReasonNone)
	f("empty level", quote(record.UndefPrice, record.UndefPrice, 0, 0), record.ReasonNone)
	f("crossed", quote(px+1, px, 1, 1), record.ReasonCrossed)
	f("locked", quote(px, px, 1, 1), record.ReasonLocked)
	f("zero bid size", quote(px, px+1, 0, 1), record.ReasonBadSize)
	f("negative price", quote(-px, px, 1, 1), record.ReasonBadPrice)
	f("zero price", quote(0, px, 1, 1), record.ReasonBadPrice)
	f("price above band", quote(px, 20_000_000*record.PriceScale, 1, 1), record.ReasonBadPrice)
	unknown := quote(px, px+1, 1, 1)
	unknown.Symbol = 0
	f("unknown symbol", unknown, record.ReasonUnknownSymbol)
	f("trade", record.MarketTick{Kind: record.KindTrade, Symbol: 1, TradePx: px, TradeQty: 3}, record.ReasonNone)
	f("trade no size", record.MarketTick{Kind: record.KindTrade, Symbol: 1, TradePx: px}, record.ReasonBadSize)
	f("trade undef px", record.MarketTick{Kind: record.KindTrade, Symbol: 1, TradePx: record.UndefPrice, TradeQty: 1}, record.ReasonBadPrice)
	order := func(action, side uint8, p int64, size uint32) record.MarketTick {
		return record.MarketTick{Kind: record.KindOrder, Symbol: 1, Action: action, Side: side, Price: p, Size: size, OrderID: 9}
	}
	f("add", order(record.ActionAdd, record.SideBid, px, 5), record.ReasonNone)
	f("add no side", order(record.ActionAdd, record.SideNone, px, 5), record.ReasonBadAction)
	f("add zero size", order(record.ActionAdd, record.SideAsk, px, 0), record.ReasonBadSize)
	f("bad action", order('Z', record.SideAsk, px, 1), record.ReasonBadAction)
	f("clear", order(record.ActionClear, record.SideNone, record.UndefPrice, 0), record.ReasonNone)
	f("fill", order(record.ActionFill, record.SideAsk, px, 2), record.ReasonNone)
	f("watermark", record.MarketTick{Kind: record.KindWatermark}, record.ReasonNone)
	f("bad kind", record.MarketTick{Kind: 99, Symbol: 1}, record.ReasonBadAction)
}

func TestUniverse(t *testing.T) {
	u := NewUniverse(false)
	v, _ := NewValidator(Config{}, u)
	tk := quote(px, px+1, 1, 1)
	if r, _, _ := v.Check(&tk); r != record.ReasonUnknownSymbol {
		t.Fatalf("not admitted: got %v", r)
	}
	u.Admit(1)
	if r, _, _ := v.Check(&tk); r != record.ReasonNone {
		t.Fatalf("admitted: got %v", r)
	}
}

func TestSeq(t *testing.T) {
	type step struct {
		venue  uint16
		sym    uint32
		seq    uint64
		want   record.Reason
		detail int64
	}
	run := func(mode SeqMode, steps []step) {
		t.Helper()
		v, _ := NewValidator(Config{Seq: mode}, nil)
		for i, s := range steps {
			tk := quote(px, px+1, 1, 1)
			tk.Venue, tk.Symbol, tk.Seq = s.venue, s.sym, s.seq
			_, got, d := v.Check(&tk)
			if got != s.want || d != s.detail {
				t.Errorf("mode %d step %d: got %v/%d, want %v/%d", mode, i, got, d, s.want, s.detail)
			}
		}
	}
	run(SeqContiguous, []step{
		{1, 1, 10, record.ReasonNone, 0},
		{1, 1, 11, record.ReasonNone, 0},
		{1, 1, 11, record.ReasonNone, 0}, // same message
		{1, 2, 50, record.ReasonNone, 0}, // other symbol: own sequence
		{1, 1, 14, record.ReasonSeqGap, 12},
		{2, 1, 3, record.ReasonNone, 0}, // other venue: own sequence
		{1, 1, 13, record.ReasonSeqRegress, 14},
		{1, 1, 14, record.ReasonNone, 0},
	})
	run(SeqMonotonic, []step{
		{1, 1, 10, record.ReasonNone, 0},
		{1, 1, 500, record.ReasonNone, 0},
		{1, 1, 499, record.ReasonSeqRegress, 500},
	})
	run(SeqOff, []step{{1, 1, 10, record.ReasonNone, 0}, {1, 1, 2, record.ReasonNone, 0}})
}

func TestRejectAdvancesSeq(t *testing.T) {
	v, _ := NewValidator(Config{Seq: SeqContiguous}, nil)
	good := quote(px, px+1, 1, 1)
	good.Seq = 1
	v.Check(&good)
	bad := quote(px+1, px, 1, 1)
	bad.Seq = 3 // a crossed quote that also skipped a number: both reported
	if r, a, d := v.Check(&bad); r != record.ReasonCrossed || a != record.ReasonSeqGap || d != 2 {
		t.Fatalf("got %v %v %d", r, a, d)
	}
	good.Seq = 4 // follows the refused message: no gap
	if r, a, _ := v.Check(&good); r != record.ReasonNone || a != record.ReasonNone {
		t.Fatalf("after reject: got %v %v", r, a)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{MinPrice: 5, MaxPrice: 1, SeqCapacity: 1}).Validate(); err == nil {
		t.Fatal("min above max must fail")
	}
	if _, err := ParseSeqMode("sometimes"); err == nil {
		t.Fatal("bad mode must fail")
	}
}

func TestCheckNoAllocs(t *testing.T) {
	v, _ := NewValidator(Config{Seq: SeqContiguous}, nil)
	tk := quote(px, px+1, 1, 1)
	if a := testing.AllocsPerRun(1000, func() { tk.Seq++; v.Check(&tk) }); a != 0 {
		t.Fatalf("allocs = %v", a)
	}
}

func TestSnapshotSeqNotChecked(t *testing.T) {
	v, _ := NewValidator(Config{Seq: SeqContiguous}, nil)
	tk := quote(px, px+1, 1, 1)
	for i, seq := range []uint64{100, 90, 300, 5, 5, 7} {
		tk.Seq = seq
		tk.Flags = record.FlagSnapshot
		if i == 5 {
			tk.Flags = 0 // live again: a new sequence starts at 7
		}
		if _, a, _ := v.Check(&tk); a != record.ReasonNone {
			t.Fatalf("step %d: %v", i, a)
		}
	}
	tk.Seq = 9
	if _, a, d := v.Check(&tk); a != record.ReasonSeqGap || d != 8 {
		t.Fatalf("live gap: %v %d", a, d)
	}
}
