package record

import (
	"testing"

	"thunderline/hotpath/codec/codectest"
)

// TestGoldenEncodings pins the tick and reject encodings byte for byte:
// the journal stores them and replayed hashes depend on them.
func TestGoldenEncodings(t *testing.T) {
	in := MarketTick{TsEvent: 1_700_000_000_000_000_001, TsRecv: 1_700_000_000_000_000_900, Seq: 3, InSeq: 4, OrderID: 5,
		BidPx: 101_250_000_000, AskPx: 101_500_000_000, TradePx: -8, Price: -9, BidQty: 10, AskQty: 11, TradeQty: 12,
		Size: 13, Symbol: 14, Venue: 15, Flags: 0x8001, Kind: KindOrder, Action: ActionAdd, Side: SideBid, Depth: 3}
	codectest.Golden(t, "tick", AppendTick(nil, &in))
	codectest.Golden(t, "reject", AppendReject(nil, &Reject{Tick: in, Reason: ReasonCrossed, Detail: -7}))
}
