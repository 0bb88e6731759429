package book

// Snapshot is the OrderBookSnapshot of seed 004 §3: the top N levels and the
// figures derived from them. The seed's realized_vol and microburst_flags
// describe a stretch of ticks rather than one book state, so they are
// features of the window (realized_vol, microburst), computed by the window
// builder from every tick of the window.
type Snapshot struct {
	Symbol    uint32
	Depth     int
	Bids      [MaxDepth]Level
	Asks      [MaxDepth]Level
	Mid       float64 // price units; 0 when a side is empty
	Spread    float64 // ask - bid, price units; 0 when a side is empty
	Imbalance float64 // top of book: (bidQty - askQty) / (bidQty + askQty)
	// DepthImbalance is the same ratio over the top Depth levels.
	DepthImbalance float64
}

// Snap fills s with the top n levels of b (n is capped at MaxDepth).
func (b *Book) Snap(s *Snapshot, n int) {
	n = min(n, MaxDepth)
	s.Symbol, s.Depth = b.Symbol, n
	var bsum, asum int64
	for k := 0; k < n; k++ {
		s.Bids[k], s.Asks[k] = b.Level(k)
		bsum += s.Bids[k].Qty
		asum += s.Asks[k].Qty
	}
	for k := n; k < MaxDepth; k++ {
		s.Bids[k], s.Asks[k] = Level{}, Level{}
	}
	s.Mid, s.Spread, s.Imbalance, s.DepthImbalance = 0, 0, 0, 0
	bb, ba := s.Bids[0], s.Asks[0]
	if bb.Qty > 0 && ba.Qty > 0 {
		s.Mid = MidPrice(bb.Px, ba.Px)
		s.Spread = float64(ba.Px-bb.Px) / 1e9
	}
	s.Imbalance = Ratio(bb.Qty, ba.Qty)
	s.DepthImbalance = Ratio(bsum, asum)
}

// MidPrice is the mid of two fixed-point prices, in price units.
func MidPrice(bid, ask int64) float64 {
	return (float64(bid) + float64(ask)) / 2e9
}

// Ratio is (a - b) / (a + b), or 0 when both are 0.
func Ratio(a, b int64) float64 {
	if a+b == 0 {
		return 0
	}
	return float64(a-b) / float64(a+b)
}
