package book

import (
	"math/rand/v2"
	"sort"
	"testing"

	"thunderline/hotpath/record"
)

const tick = record.PriceScale / 4 // 0.25

func ord(action, side uint8, id uint64, px int64, size uint32) *record.MarketTick {
	return &record.MarketTick{Kind: record.KindOrder, Symbol: 1, Action: action, Side: side, OrderID: id, Price: px, Size: size}
}

// model is a naive book: a map of orders, aggregated and sorted on demand.
type model struct {
	orders map[uint64]order
}

func (m *model) levels(s uint8) []Level {
	agg := map[int64]*Level{}
	for _, o := range m.orders {
		if o.side != s {
			continue
		}
		l := agg[o.px]
		if l == nil {
			l = &Level{Px: o.px}
			agg[o.px] = l
		}
		l.Qty += o.size
		l.N++
	}
	var out []Level
	for _, l := range agg {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool {
		if s == record.SideBid {
			return out[i].Px > out[j].Px
		}
		return out[i].Px < out[j].Px
	})
	return out
}

func TestMBOAgainstModel(t *testing.T) {
	bs, err := New(Config{Depth: 10, MaxLevels: 512, MaxOrders: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	m := &model{orders: map[uint64]order{}}
	rng := rand.New(rand.NewPCG(7, 7))
	nextID := uint64(1)
	var ids []uint64 // live order ids, in a deterministic order
	drop := func(i int) { ids[i] = ids[len(ids)-1]; ids = ids[:len(ids)-1] }
	mid := int64(4000) * record.PriceScale
	for step := 0; step < 50_000; step++ {
		var tk *record.MarketTick
		switch r := rng.IntN(10); {
		case r < 5 || len(ids) == 0:
			s := record.SideBid
			px := mid - int64(1+rng.IntN(40))*tick
			if rng.IntN(2) == 0 {
				s = record.SideAsk
				px = mid + int64(rng.IntN(40))*tick
			}
			tk = ord(record.ActionAdd, s, nextID, px, uint32(1+rng.IntN(20)))
			m.orders[nextID] = order{px: px, size: int64(tk.Size), side: s, symbol: 1}
			ids = append(ids, nextID)
			nextID++
		case r < 8:
			i := rng.IntN(len(ids))
			id := ids[i]
			o := m.orders[id]
			size := uint32(1 + rng.IntN(int(o.size)))
			tk = ord(record.ActionCancel, o.side, id, o.px, size)
			o.size -= int64(size)
			if o.size == 0 {
				delete(m.orders, id)
				drop(i)
			} else {
				m.orders[id] = o
			}
		default:
			id := ids[rng.IntN(len(ids))]
			o := m.orders[id]
			o.size = int64(1 + rng.IntN(30))
			if o.side == record.SideBid {
				o.px = mid - int64(1+rng.IntN(40))*tick
			} else {
				o.px = mid + int64(rng.IntN(40))*tick
			}
			tk = ord(record.ActionModify, o.side, id, o.px, uint32(o.size))
			m.orders[id] = o
		}
		if r := bs.Apply(tk); r != record.ReasonNone {
			t.Fatalf("step %d: apply %c: %v", step, tk.Action, r)
		}
		if step%997 == 0 || step > 49_950 {
			b := bs.Get(1)
			wantB, wantA := m.levels(record.SideBid), m.levels(record.SideAsk)
			nb, na := b.Levels()
			if nb != len(wantB) || na != len(wantA) {
				t.Fatalf("step %d: levels %d/%d, model %d/%d", step, nb, na, len(wantB), len(wantA))
			}
			for k := 0; k < 10; k++ {
				gb, ga := b.Level(k)
				var eb, ea Level
				if k < len(wantB) {
					eb = wantB[k]
				}
				if k < len(wantA) {
					ea = wantA[k]
				}
				if gb != eb || ga != ea {
					t.Fatalf("step %d level %d: got %+v/%+v, want %+v/%+v", step, k, gb, ga, eb, ea)
				}
			}
		}
	}
}

func TestMBOEdgeCases(t *testing.T) {
	bs, _ := New(Config{MaxLevels: 16, MaxOrders: 4})
	px := int64(100) * record.PriceScale
	if r := bs.Apply(ord(record.ActionCancel, record.SideBid, 99, px, 1)); r != record.ReasonUnknownOrder {
		t.Fatalf("cancel unknown: %v", r)
	}
	bs.Apply(ord(record.ActionAdd, record.SideBid, 1, px, 5))
	bs.Apply(ord(record.ActionAdd, record.SideAsk, 2, px+tick, 7))
	b := bs.Get(1)
	bid, ask, ok := b.Best()
	if !ok || bid.Qty != 5 || ask.Qty != 7 || ask.Px != px+tick {
		t.Fatalf("best %+v %+v %v", bid, ask, ok)
	}
	// Clear forgets the orders: a cancel afterwards is unknown.
	bs.Apply(&record.MarketTick{Kind: record.KindClear, Symbol: 1})
	if _, _, ok := b.Best(); ok {
		t.Fatal("clear left levels")
	}
	if r := bs.Apply(ord(record.ActionCancel, record.SideBid, 1, px, 5)); r != record.ReasonUnknownOrder {
		t.Fatalf("cancel after clear: %v", r)
	}
	// Fill the order table.
	for id := uint64(10); id < 14; id++ {
		if r := bs.Apply(ord(record.ActionAdd, record.SideBid, id, px-int64(id)*tick, 1)); r != record.ReasonNone {
			t.Fatalf("add %d: %v", id, r)
		}
	}
	if r := bs.Apply(ord(record.ActionAdd, record.SideBid, 20, px, 1)); r != record.ReasonBookFull {
		t.Fatalf("full table: %v", r)
	}
	if nb, _ := b.Levels(); nb != 4 {
		t.Fatalf("rejected add changed levels: %d", nb)
	}
	// Crossed book counted.
	bs2, _ := New(Config{})
	bs2.Apply(ord(record.ActionAdd, record.SideAsk, 1, px, 1))
	bs2.Apply(ord(record.ActionAdd, record.SideBid, 2, px, 1))
	if bs2.Crossed != 1 {
		t.Fatalf("crossed = %d", bs2.Crossed)
	}
}

func TestQuoteBookAndSnapshot(t *testing.T) {
	bs, _ := New(Config{Depth: 3})
	px := int64(100) * record.PriceScale
	for d := 0; d < 3; d++ {
		bs.Apply(&record.MarketTick{Kind: record.KindQuote, Symbol: 2, Depth: uint8(d),
			BidPx: px - int64(d)*tick, BidQty: uint32(10 * (d + 1)),
			AskPx: px + int64(d+1)*tick, AskQty: uint32(5 * (d + 1))})
	}
	var s Snapshot
	bs.Get(2).Snap(&s, 3)
	if s.Mid != 100.125 || s.Spread != 0.25 {
		t.Fatalf("mid %v spread %v", s.Mid, s.Spread)
	}
	if want := (10.0 - 5.0) / 15.0; s.Imbalance != want {
		t.Fatalf("imbalance %v want %v", s.Imbalance, want)
	}
	if want := (60.0 - 30.0) / 90.0; s.DepthImbalance != want {
		t.Fatalf("depth imbalance %v want %v", s.DepthImbalance, want)
	}
	// An undefined price empties the level.
	bs.Apply(&record.MarketTick{Kind: record.KindQuote, Symbol: 2, Depth: 0, BidPx: record.UndefPrice, AskPx: px + tick, AskQty: 1})
	if _, _, ok := bs.Get(2).Best(); ok {
		t.Fatal("one-sided book reported both sides")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Depth: 0, MaxLevels: 1, MaxOrders: 1}, {Depth: 40, MaxLevels: 100, MaxOrders: 1}, {Depth: 10, MaxLevels: 5, MaxOrders: 1}, {Depth: 1, MaxLevels: 1, MaxOrders: 0}} {
		if c.Validate() == nil {
			t.Errorf("%+v: want error", c)
		}
	}
}

func TestApplyNoAllocs(t *testing.T) {
	bs, _ := New(Config{})
	px := int64(100) * record.PriceScale
	id := uint64(0)
	bs.Get(1)
	bs.Apply(ord(record.ActionAdd, record.SideBid, 1<<40, px, 1)) // first MBO use allocates levels
	a := testing.AllocsPerRun(1000, func() {
		id++
		bs.Apply(ord(record.ActionAdd, record.SideBid, id, px-int64(id%50)*tick, 3))
		bs.Apply(ord(record.ActionCancel, record.SideBid, id, 0, 3))
	})
	if a != 0 {
		t.Fatalf("allocs = %v", a)
	}
}
