package partition

import (
	"testing"
	"thunderline/hotpath/alloctest"

	"thunderline/hotpath/normalize"
	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
)

func TestDispatcherWatermarksAndRouting(t *testing.T) {
	var parts []*ring.SPSC[record.MarketTick]
	for i := 0; i < 3; i++ {
		r, _ := ring.NewSPSC[record.MarketTick](1024)
		parts = append(parts, r)
	}
	j, _ := ring.NewSPSC[record.MarketTick](1024)
	d, err := NewDispatcher(parts, j, 100, 10)
	if err != nil {
		t.Fatal(err)
	}
	ticks := []record.MarketTick{
		{Symbol: 1, TsEvent: 1000}, {Symbol: 2, TsEvent: 1050}, {Symbol: 3, TsEvent: 1111},
		{Symbol: 4, TsEvent: 1100}, {Symbol: 5, TsEvent: 1305},
	}
	d.Dispatch(ticks)
	d.End()
	if j.Len() != 5 {
		t.Fatalf("journal ring has %d ticks, want all 5", j.Len())
	}
	var got [3][]record.MarketTick
	for i, r := range parts {
		buf := make([]record.MarketTick, 64)
		got[i] = buf[:r.PopBatch(buf)]
	}
	// Watermarks: floor((maxTs-10)/100)*100 → 900 after 1000, 1000 after
	// 1050, 1100 after 1111, none after 1100 (not newer), 1200 after 1305;
	// then the end marker. Every partition sees all of them.
	wantMarks := []int64{900, 1000, 1100, 1200}
	for i, ts := range got {
		var marks []int64
		var syms []uint32
		for _, x := range ts {
			if x.Kind == record.KindWatermark {
				if x.Flags&record.FlagEnd != 0 {
					continue
				}
				marks = append(marks, x.TsEvent)
			} else {
				syms = append(syms, x.Symbol)
				if x.InSeq == 0 {
					t.Fatalf("tick without ingest sequence: %+v", x)
				}
			}
		}
		if len(marks) != len(wantMarks) {
			t.Fatalf("partition %d: marks %v, want %v", i, marks, wantMarks)
		}
		for k := range marks {
			if marks[k] != wantMarks[k] {
				t.Fatalf("partition %d: marks %v, want %v", i, marks, wantMarks)
			}
		}
		for _, s := range syms {
			if int(s)%3 != i {
				t.Fatalf("symbol %d routed to partition %d", s, i)
			}
		}
		if last := ts[len(ts)-1]; last.Flags&record.FlagEnd == 0 {
			t.Fatalf("partition %d: last item is not the end marker", i)
		}
	}
	if _, err := NewDispatcher(nil, nil, 1, 0); err == nil {
		t.Fatal("no partitions must fail")
	}
}

func TestPartitionOutputs(t *testing.T) {
	syms := record.NewSymbols()
	syms.Intern("A")
	in, _ := ring.NewSPSC[record.MarketTick](64)
	out, _ := ring.NewMPSC[Output](64)
	p, err := New(0, Config{Tenant: "t", Normalize: normalize.Config{Seq: normalize.SeqContiguous}}, syms, nil, in, out)
	if err != nil {
		t.Fatal(err)
	}
	px := int64(100) * record.PriceScale
	q := func(ts int64, seq uint64, bid, ask int64) record.MarketTick {
		return record.MarketTick{Kind: record.KindQuote, Symbol: 1, TsEvent: ts, Seq: seq, InSeq: seq, BidPx: bid, AskPx: ask, BidQty: 1, AskQty: 1}
	}
	ticks := []record.MarketTick{
		q(1e9, 1, px, px+1),
		q(1e9+1, 2, px+2, px+1), // crossed: rejected
		q(1e9+2, 5, px, px+1),   // gap: reported, applied
		{Kind: record.KindWatermark, TsEvent: 2e9},
		q(2e9+3, 6, px, px+1), // in windows only the end closes
		{Kind: record.KindWatermark, Flags: record.FlagEnd},
	}
	for i := range ticks {
		in.Push(&ticks[i])
	}
	p.Run(nil)
	if !p.Done() {
		t.Fatal("partition did not stop at the end marker")
	}
	buf := make([]Output, 64)
	n := out.PopBatch(buf)
	var kinds []OutKind
	var reasons []record.Reason
	for _, o := range buf[:n] {
		kinds = append(kinds, o.Kind)
		if o.Kind == OutReject {
			reasons = append(reasons, o.Reject.Reason)
		}
	}
	if len(reasons) != 2 || reasons[0] != record.ReasonCrossed || reasons[1] != record.ReasonSeqGap {
		t.Fatalf("rejects %v", reasons)
	}
	if p.C.Ticks.Load() != 4 || p.C.Applied.Load() != 3 || p.C.Windows.Load() == 0 {
		t.Fatalf("counters: ticks %d applied %d windows %d", p.C.Ticks.Load(), p.C.Applied.Load(), p.C.Windows.Load())
	}
	if uint64(n) != 2+p.C.Windows.Load()+p.C.Labels.Load() {
		t.Fatalf("%d outputs %v", n, kinds)
	}
	// The window the 2 s watermark closed is not AtEnd; the ones the end
	// marker flushed are, and every window carries its close time.
	var byMark, byEnd int
	for _, o := range buf[:n] {
		switch {
		case o.Kind != OutWindow:
		case o.Window.ClosedNs == 0:
			t.Fatalf("window ending %d: no close time", o.Window.End)
		case o.Window.AtEnd:
			byEnd++
		case o.Window.End > 2e9:
			t.Fatalf("window ending %d closed by the 2 s watermark", o.Window.End)
		default:
			byMark++
		}
	}
	if byMark == 0 || byEnd == 0 {
		t.Fatalf("windows closed by the watermark %d, by the end %d: want both", byMark, byEnd)
	}
}

func TestProcessNoAllocs(t *testing.T) {
	cfg := Config{Tenant: "bench"}
	ticks, syms := benchInput(t, 1<<16, cfg)
	p, err := New(0, cfg, syms, normalize.NewUniverse(true), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ticks[:1<<15] {
		p.Process(&ticks[i])
	}
	i := 1 << 15
	w0 := p.C.Windows.Load()
	// Every malloc of the whole loop, not AllocsPerRun's rounded-down mean.
	n := alloctest.Count(10000, func() { // a warm-up and three measurements: 30,001 of the 32,768 ticks left
		p.Process(&ticks[i])
		i++
	})
	windows := p.C.Windows.Load() - w0
	if windows == 0 {
		t.Fatal("no window closed: the loop proves nothing about window closes")
	}
	if n != 0 {
		t.Fatalf("%d allocations over 10,000 ticks (the fewest of three measurements; %d windows in all)", n, windows)
	}
}
