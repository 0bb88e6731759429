package window

import (
	"math/rand/v2"
	"testing"
	"thunderline/hotpath/alloctest"
	"time"

	"thunderline/hotpath/book"
	"thunderline/hotpath/codec/codectest"
	"thunderline/hotpath/record"
)

type collect struct {
	windows []FeatureWindow
	labels  []LabelFill
}

func (c *collect) Window(w *FeatureWindow) { c.windows = append(c.windows, *w) }
func (c *collect) Label(l *LabelFill)      { c.labels = append(c.labels, *l) }

func newBuilder(t testing.TB, cfg Config) (*Builder, *collect, *record.Symbols) {
	t.Helper()
	syms := record.NewSymbols()
	syms.Intern("AAA")
	syms.Intern("BBB")
	books, err := book.New(book.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := &collect{}
	b, err := NewBuilder(cfg, books, syms, "t1", c)
	if err != nil {
		t.Fatal(err)
	}
	return b, c, syms
}

func quoteAt(sym uint32, ts int64, inseq uint64, mid int64) record.MarketTick {
	return record.MarketTick{Kind: record.KindQuote, Symbol: sym, TsEvent: ts, InSeq: inseq,
		BidPx: mid - record.PriceScale/4, AskPx: mid + record.PriceScale/4, BidQty: 10, AskQty: 12}
}

// TestWindowOverlapProperty: with ticks in event-time order, every tick lands
// in exactly the windows whose [start, end) covers its timestamp.
func TestWindowOverlapProperty(t *testing.T) {
	for _, tc := range []struct {
		length  time.Duration
		overlap float64
	}{{250 * time.Millisecond, 0.5}, {100 * time.Millisecond, 0}, {90 * time.Millisecond, 0.3}, {40 * time.Millisecond, 0.75}, {1 * time.Second, 0.9}} {
		cfg := Config{Length: tc.length, Overlap: tc.overlap, NoOverlap: tc.overlap == 0}
		b, c, _ := newBuilder(t, cfg)
		rng := rand.New(rand.NewPCG(uint64(tc.length), 3))
		type tk struct {
			sym uint32
			ts  int64
			in  uint64
		}
		var ticks []tk
		ts := int64(1_700_000_000) * 1e9
		for i := 0; i < 5000; i++ {
			ts += rng.Int64N(int64(tc.length) / 3)
			if rng.IntN(50) == 0 {
				ts += int64(tc.length) * 7 // a quiet stretch
			}
			sym := uint32(1 + rng.IntN(2))
			x := quoteAt(sym, ts, uint64(i+1), 100*record.PriceScale+rng.Int64N(8)*record.PriceScale/4)
			if r, missed := b.OnTick(&x); r != record.ReasonNone || missed != 0 {
				t.Fatalf("tick %d: %v missed %d", i, r, missed)
			}
			ticks = append(ticks, tk{sym, ts, uint64(i + 1)})
			if rng.IntN(200) == 0 {
				b.OnWatermark(ts - int64(tc.length)/2)
			}
		}
		b.Flush()
		step := cfg.WithDefaults().Step()
		seen := map[[2]int64]bool{}
		total := 0
		for _, w := range c.windows {
			if w.End-w.Start != int64(tc.length) || w.Start%step != 0 {
				t.Fatalf("%v: window [%d,%d) not on the grid (step %d)", tc, w.Start, w.End, step)
			}
			key := [2]int64{int64(w.Symbol), w.Start}
			if seen[key] {
				t.Fatalf("%v: window %v emitted twice", tc, key)
			}
			seen[key] = true
			var n uint32
			var first, last uint64
			for _, x := range ticks {
				if x.sym == w.Symbol && x.ts >= w.Start && x.ts < w.End {
					if n == 0 {
						first = x.in
					}
					last = x.in
					n++
				}
			}
			if n != w.Ticks || first != w.FirstInSeq || last != w.LastInSeq {
				t.Fatalf("%v: window [%d,%d) sym %d: ticks %d [%d..%d], want %d [%d..%d]", tc, w.Start, w.End, w.Symbol, w.Ticks, w.FirstInSeq, w.LastInSeq, n, first, last)
			}
			if float64(n) != w.Features[FTickCount] {
				t.Fatalf("tick_count feature %v, ticks %d", w.Features[FTickCount], n)
			}
			total += int(n)
		}
		// Every tick is in ceil or floor of length/step windows; count them.
		want := 0
		for _, x := range ticks {
			for k := floorDiv(x.ts-int64(tc.length), step) + 1; k <= floorDiv(x.ts, step); k++ {
				want++
			}
		}
		if total != want {
			t.Fatalf("%v: %d tick-window memberships, want %d", tc, total, want)
		}
	}
}

func TestLateTicks(t *testing.T) {
	b, c, _ := newBuilder(t, Config{Length: 100 * time.Millisecond, NoOverlap: true, Lateness: 20 * time.Millisecond})
	ms := int64(time.Millisecond)
	px := 100 * record.PriceScale
	feed := func(ts int64, in uint64) int {
		x := quoteAt(1, ts, in, px)
		_, missed := b.OnTick(&x)
		return missed
	}
	feed(10*ms, 1)
	feed(110*ms, 2) // window [0,100) not closed yet: watermark is 90ms
	if m := feed(95*ms, 3); m != 0 {
		t.Fatalf("tick within lateness missed %d windows", m)
	}
	feed(125*ms, 4) // watermark 105ms: [0,100) closes
	if len(c.windows) != 1 || c.windows[0].Ticks != 2 {
		t.Fatalf("windows %+v", c.windows)
	}
	if m := feed(99*ms, 5); m != 1 {
		t.Fatalf("late tick missed %d windows, want 1", m)
	}
	if b.Stats.LateTicks != 1 {
		t.Fatalf("late ticks %d", b.Stats.LateTicks)
	}
}

func TestLabels(t *testing.T) {
	ms := int64(time.Millisecond)
	for _, typ := range []LabelType{LabelDelta, LabelClass} {
		b, c, _ := newBuilder(t, Config{Length: 100 * time.Millisecond, NoOverlap: true,
			Label: LabelSpec{Horizon: 200 * ms, Type: typ, ThresholdBps: 1}})
		mid := func(i int64) int64 { return 100*record.PriceScale + i*record.PriceScale/100 }
		// One tick every 10ms; the mid rises by 0.01 each tick.
		for i := int64(0); i < 30; i++ {
			x := quoteAt(1, i*10*ms, uint64(i+1), mid(i))
			b.OnTick(&x)
		}
		// Window [0,100) ends at 100ms: mid then is mid(9). Its label target is
		// 300ms: the mid prevailing then is mid(29) (tick at 290ms), filled when
		// the tick at 300ms arrives.
		if len(c.labels) != 0 {
			t.Fatalf("%v: label filled before its horizon: %+v", typ, c.labels)
		}
		x := quoteAt(1, 300*ms, 31, mid(30))
		b.OnTick(&x)
		if len(c.labels) != 1 {
			t.Fatalf("%v: %d labels after the horizon", typ, len(c.labels))
		}
		l := c.labels[0]
		if l.WindowID != c.windows[0].ID || !l.Valid {
			t.Fatalf("%v: label %+v for window %x", typ, l, c.windows[0].ID)
		}
		wantEnd, wantTarget := float64(mid(9))/1e9, float64(mid(29))/1e9
		if l.MidEnd != wantEnd || l.MidTarget != wantTarget {
			t.Fatalf("%v: mids %v %v, want %v %v", typ, l.MidEnd, l.MidTarget, wantEnd, wantTarget)
		}
		want := wantTarget - wantEnd
		if typ == LabelClass {
			want = 1 // +0.2 on 100.09 is about 20 bps, above 1 bps
		}
		if l.Value != want {
			t.Fatalf("%v: value %v, want %v", typ, l.Value, want)
		}
		b.Flush()
		if b.Pending() == 0 {
			t.Fatalf("%v: windows near the end must stay open", typ)
		}
	}
}

func TestFeatures(t *testing.T) {
	ms := int64(time.Millisecond)
	b, c, _ := newBuilder(t, Config{Length: 100 * time.Millisecond, NoOverlap: true})
	px := 100 * record.PriceScale
	q := quoteAt(1, 1*ms, 1, px)
	b.OnTick(&q)
	tr := record.MarketTick{Kind: record.KindTrade, Symbol: 1, TsEvent: 2 * ms, InSeq: 2, TradePx: px, TradeQty: 3}
	b.OnTick(&tr)
	tr2 := record.MarketTick{Kind: record.KindTrade, Symbol: 1, TsEvent: 3 * ms, InSeq: 3, TradePx: px + record.PriceScale, TradeQty: 1}
	b.OnTick(&tr2)
	q2 := quoteAt(1, 50*ms, 4, px+record.PriceScale/2)
	b.OnTick(&q2)
	b.Flush()
	w := c.windows[0]
	f := w.Features
	check := func(name Feature, got, want float64) {
		t.Helper()
		if got != want {
			t.Errorf("%v = %v, want %v", name, got, want)
		}
	}
	check(FTradeCount, f[FTradeCount], 2)
	check(FVolume, f[FVolume], 4)
	check(FVWAP, f[FVWAP], (100.0*3+101.0)/4)
	check(FMid, f[FMid], 100.5)
	check(FMidReturn, f[FMidReturn], 0.005)
	spread, mid := 0.5, 100.5 // variables: a constant expression would be exact
	check(FSpreadBps, f[FSpreadBps], spread/mid*1e4)
	check(FTobImbalance, f[FTobImbalance], -2.0/22.0)
	check(FRealizedVol, f[FRealizedVol], 0.005)
	check(FTickCount, f[FTickCount], 4)
	check(FMicroburst, f[FMicroburst], 0)
	// OFI: bid up (+10), ask up (+12 old ask size): 22.
	check(FOFI, f[FOFI], 22)
}

func TestDeterministicHashes(t *testing.T) {
	run := func() ([32]byte, [32]byte) {
		b, c, syms := newBuilder(t, Config{})
		rng := rand.New(rand.NewPCG(11, 12))
		ts := int64(1e18)
		for i := 0; i < 3000; i++ {
			ts += rng.Int64N(int64(20 * time.Millisecond))
			x := quoteAt(uint32(1+rng.IntN(2)), ts, uint64(i), 100*record.PriceScale+rng.Int64N(40)*record.PriceScale/4)
			b.OnTick(&x)
		}
		b.Flush()
		dw, dl := NewDigest(), NewDigest()
		for i := range c.windows {
			dw.Add(c.windows[i].Symbol, &c.windows[i].Hash)
		}
		for i := range c.labels {
			dl.Add(c.labels[i].Symbol, &c.labels[i].Hash)
		}
		a, _ := Sum(syms, dw)
		l, _ := Sum(syms, dl)
		return a, l
	}
	a1, l1 := run()
	a2, l2 := run()
	if a1 != a2 || l1 != l2 {
		t.Fatal("same input, different digests")
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	b, c, syms := newBuilder(t, Config{})
	for i := int64(0); i < 100; i++ {
		x := quoteAt(1, i*int64(time.Millisecond)*30, uint64(i), 100*record.PriceScale+i*record.PriceScale/4)
		b.OnTick(&x)
	}
	b.Flush()
	for _, w := range c.windows {
		rec := AppendWindowRecord(nil, &w, "t1", syms.Name(w.Symbol))
		d, err := DecodeWindowRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		if d.Hash != w.Hash || d.Window.ID != w.ID || d.Key != "AAA" || d.Tenant != "t1" || d.Window.Features != w.Features {
			t.Fatalf("round trip mismatch: %+v vs %+v", d.Window, w)
		}
		for cut := 0; cut < len(rec); cut++ {
			if _, err := DecodeWindowRecord(rec[:cut]); err == nil {
				t.Fatalf("truncated at %d decoded", cut)
			}
		}
	}
	for _, l := range c.labels {
		rec := AppendLabel(nil, &l, "AAA")
		d, err := DecodeLabel(rec)
		if err != nil || d.Label.Hash != l.Hash || d.Label.Value != l.Value {
			t.Fatalf("label round trip: %v %+v", err, d)
		}
	}
	id := c.windows[0].ID
	if s := FormatUUID(id); len(s) != 36 || s[14] != '8' {
		t.Fatalf("uuid %s", s)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Length: time.Nanosecond},
		{Overlap: 0.99},
		{Lateness: -1},
		{Recipe: 9},
		{Label: LabelSpec{Type: 7}},
		{Depth: 40},
		{BurstBuckets: 100},
	}
	for _, c := range bad {
		if err := c.WithDefaults().Validate(); err == nil {
			t.Errorf("%+v: want error", c)
		}
	}
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Fatal(err)
	}
	books, _ := book.New(book.Config{})
	if _, err := NewBuilder(Config{Lateness: time.Second}, books, record.NewSymbols(), "t", &collect{}); err == nil {
		t.Fatal("horizon below lateness must fail")
	}
	if _, err := ParseRecipe("fancy"); err == nil {
		t.Fatal("bad recipe name")
	}
}

func TestOnTickNoAllocs(t *testing.T) {
	b, _, _ := newBuilder(t, Config{})
	b.out = &discard{}
	ts := int64(1e18)
	i := uint64(0)
	x := quoteAt(1, ts, 0, 100*record.PriceScale)
	b.OnTick(&x)
	out := &discard{}
	b.out = out
	// Every malloc of the whole loop, not AllocsPerRun's rounded-down mean
	// (which would pass up to 19,999 of them).
	n := alloctest.Count(20000, func() {
		i++
		ts += int64(time.Millisecond)
		x := quoteAt(1, ts, i, 100*record.PriceScale+int64(i%7)*record.PriceScale/4)
		b.OnTick(&x)
	})
	if out.windows == 0 {
		t.Fatal("no window closed: the loop proves nothing about window closes")
	}
	if n != 0 {
		t.Fatalf("%d allocations over 20,000 ticks and %d windows", n, out.windows)
	}
}

type discard struct{ windows, labels int }

func (d *discard) Window(*FeatureWindow) { d.windows++ }
func (d *discard) Label(*LabelFill)      { d.labels++ }

func FuzzDecodeWindowRecord(f *testing.F) {
	w := FeatureWindow{Kind: KindMarket, Recipe: RecipeFull, SchemaVersion: 1, Start: 1, End: 2}
	f.Add(AppendWindowRecord(nil, &w, "t", "ESH4"))
	w.Recipe = RecipeCore
	f.Add(AppendWindowRecord(nil, &w, "", "X"))
	f.Add(AppendLabel(nil, &LabelFill{Valid: true, Value: 1}, "ESH4"))
	f.Add([]byte("TLFW\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		codectest.Reencodes(t, b, ErrCorrupt, DecodeWindowRecord, func(d DecodedWindow) []byte {
			return AppendWindowRecordExt(nil, &d.Window, d.Tenant, d.Key, d.Ext)
		})
		codectest.Reencodes(t, b, ErrCorrupt, DecodeLabel, func(d DecodedLabel) []byte { return AppendLabel(nil, &d.Label, d.Key) })
	})
}

// TestReconfigureGrid: the ladder's window widening and overlap removal move
// the grid at a boundary. Windows open then keep their bounds and their
// ticks; windows after start on the new grid at the boundary; every
// emitted window holds exactly the ticks of its [start, end); and the same
// input with the same reconfiguration gives the same hashes.
func TestReconfigureGrid(t *testing.T) {
	ms := int64(time.Millisecond)
	run := func() ([]FeatureWindow, []record.MarketTick) {
		b, c, _ := newBuilder(t, Config{Length: 100 * time.Millisecond, Overlap: 0.5})
		rng := rand.New(rand.NewPCG(5, 5))
		var ticks []record.MarketTick
		ts := int64(1e18)
		const boundary = int64(1e18) + 1000*int64(time.Millisecond)
		reconfigured := false
		for i := 0; i < 4000; i++ {
			ts += rng.Int64N(2 * ms)
			if !reconfigured && ts >= boundary {
				b.OnWatermark(boundary)
				if err := b.Reconfigure(150*time.Millisecond, 0, boundary); err != nil {
					t.Fatal(err)
				}
				reconfigured = true
			}
			x := quoteAt(uint32(1+rng.IntN(2)), ts, uint64(i+1), 100*record.PriceScale+rng.Int64N(8)*record.PriceScale/4)
			if _, missed := b.OnTick(&x); missed != 0 {
				t.Fatalf("tick %d missed %d windows", i, missed)
			}
			ticks = append(ticks, x)
		}
		b.Flush()
		return c.windows, ticks
	}
	ws, ticks := run()
	const boundary = int64(1e18) + 1000*int64(time.Millisecond)
	seen := map[[2]int64]bool{}
	var old, neu int
	for _, w := range ws {
		key := [2]int64{int64(w.Symbol), w.Start}
		if seen[key] {
			t.Fatalf("window %v twice", key)
		}
		seen[key] = true
		switch {
		case w.End-w.Start == int64(100*time.Millisecond):
			old++
			if w.End-w.Start != int64(100*time.Millisecond) || (w.Start-int64(1e18))%(50*ms) != 0 {
				t.Fatalf("old-grid window [%d,%d)", w.Start, w.End)
			}
		default:
			neu++
			origin := GridOrigin(boundary, 0, 50*ms)
			if w.End-w.Start != int64(150*time.Millisecond) || w.Start < origin || (w.Start-origin)%(150*ms) != 0 {
				t.Fatalf("new-grid window [%d,%d) not on the new grid", w.Start-boundary, w.End-boundary)
			}
		}
		var n uint32
		for _, x := range ticks {
			if x.Symbol == w.Symbol && x.TsEvent >= w.Start && x.TsEvent < w.End {
				n++
			}
		}
		if n != w.Ticks {
			t.Fatalf("window [%d,%d) sym %d: %d ticks, want %d", w.Start, w.End, w.Symbol, w.Ticks, n)
		}
	}
	if old == 0 || neu == 0 {
		t.Fatalf("old %d, new %d windows", old, neu)
	}
	again, _ := run()
	if len(again) != len(ws) {
		t.Fatal("a second run differs")
	}
	for i := range ws {
		if ws[i].Hash != again[i].Hash {
			t.Fatal("a second run differs")
		}
	}
}
