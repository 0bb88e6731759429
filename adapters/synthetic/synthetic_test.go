package synthetic

import (
	"testing"
	"time"

	"thunderline/hotpath/normalize"
	"thunderline/hotpath/record"
)

func gen(t *testing.T, cfg Config, n int) []record.MarketTick {
	t.Helper()
	f, err := New(cfg, record.NewSymbols())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]record.MarketTick, n)
	got := 0
	for got < n {
		k, _ := f.Next(out[got:min(n, got+1000)])
		got += k
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a := gen(t, Config{Seed: 42, Symbols: 20}, 50_000)
	b := gen(t, Config{Seed: 42, Symbols: 20}, 50_000)
	c := gen(t, Config{Seed: 43, Symbols: 20}, 50_000)
	same := true
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("tick %d differs with the same seed", i)
		}
		same = same && a[i] == c[i]
	}
	if same {
		t.Fatal("different seeds gave the same feed")
	}
}

func TestValidAndShaped(t *testing.T) {
	ticks := gen(t, Config{Symbols: 10}, 200_000)
	v, _ := normalize.NewValidator(normalize.Config{Seq: normalize.SeqContiguous}, normalize.NewUniverse(true))
	syms := map[uint32]int{}
	trades := 0
	var prev int64
	for i := range ticks {
		if r, a, _ := v.Check(&ticks[i]); r != record.ReasonNone || a != record.ReasonNone {
			t.Fatalf("tick %d rejected: %v %+v", i, r, ticks[i])
		}
		if ticks[i].TsEvent < prev {
			t.Fatalf("tick %d goes back in time", i)
		}
		prev = ticks[i].TsEvent
		syms[ticks[i].Symbol]++
		if ticks[i].Kind == record.KindTrade {
			trades++
		}
	}
	if len(syms) != 10 || syms[1] <= syms[10] {
		t.Fatalf("symbol activity %v: want all 10, the first busiest", syms)
	}
	if r := float64(trades) / float64(len(ticks)); r < 0.08 || r > 0.12 {
		t.Fatalf("trade share %v", r)
	}
}

func TestBurstMultiplier(t *testing.T) {
	cfg := Config{Rate: 50_000, BurstEvery: time.Second, BurstLength: 200 * time.Millisecond, BurstMultiplier: 10}
	f, _ := New(cfg, record.NewSymbols())
	ticks := gen(t, cfg, 400_000)
	var in, out int
	for i := range ticks {
		if f.InBurst(ticks[i].TsEvent) {
			in++
		} else {
			out++
		}
	}
	span := time.Duration(ticks[len(ticks)-1].TsEvent - ticks[0].TsEvent)
	seconds := span.Seconds()
	inRate := float64(in) / (seconds * 0.2)
	outRate := float64(out) / (seconds * 0.8)
	if ratio := inRate / outRate; ratio < 8.5 || ratio > 11.5 {
		t.Fatalf("burst rate ratio %v (in %v/s, out %v/s over %v)", ratio, inRate, outRate, span)
	}
}

func TestBadRatio(t *testing.T) {
	ticks := gen(t, Config{BadRatio: 0.01}, 100_000)
	v, _ := normalize.NewValidator(normalize.Config{}, normalize.NewUniverse(true))
	bad := 0
	for i := range ticks {
		if r, _, _ := v.Check(&ticks[i]); r != record.ReasonNone {
			bad++
		}
	}
	if bad < 800 || bad > 1200 {
		t.Fatalf("%d bad ticks of 100000 at 1%%", bad)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{{Symbols: -1}, {Depth: 33}, {TradeRatio: 2}, {BurstEvery: time.Second, BurstLength: 2 * time.Second}} {
		if _, err := New(c, record.NewSymbols()); err == nil {
			t.Errorf("%+v: want error", c)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	f, _ := New(Config{}, record.NewSymbols())
	buf := make([]record.MarketTick, 256)
	if a := testing.AllocsPerRun(100, func() { f.Next(buf) }); a != 0 {
		t.Fatalf("allocs = %v", a)
	}
}
