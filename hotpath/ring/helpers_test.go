package ring

import (
	"fmt"
	"math"
	"testing"

	"thunderline/hotpath/record"
)

// fifo is what both rings offer; tests drive them through it.
type fifo[T any] interface {
	Push(v *T) bool
	PushBatch(vs []T) int
	Pop(dst *T) bool
	PopBatch(dst []T) int
	Len() int
	Cap() int
}

var (
	_ fifo[record.MarketTick] = (*SPSC[record.MarketTick])(nil)
	_ fifo[record.MarketTick] = (*MPSC[record.MarketTick])(nil)
)

// mkTick builds a tick whose fields are all derived from (producer, seq), so
// checkTick can detect a torn or mixed-up copy, not only a wrong sequence.
func mkTick(producer uint16, seq uint64) record.MarketTick {
	return record.MarketTick{
		TsEvent:  int64(seq) * 3,
		TsRecv:   int64(seq)*3 + 1,
		Seq:      seq ^ 0x5555,
		InSeq:    seq,
		OrderID:  ^seq,
		BidPx:    int64(seq) * 7,
		AskPx:    int64(seq)*7 + 1,
		TradePx:  int64(seq) * 11,
		Price:    -int64(seq),
		BidQty:   uint32(seq),
		AskQty:   uint32(seq >> 32),
		TradeQty: uint32(seq) + 1,
		Size:     uint32(seq) * 5,
		Symbol:   uint32(seq) ^ 0xffff,
		Venue:    producer,
		Flags:    uint16(seq),
		Kind:     record.KindTrade,
		Action:   uint8(seq),
		Side:     uint8(producer),
		Depth:    uint8(seq >> 8),
	}
}

func checkTick(t *record.MarketTick) error {
	if want := mkTick(t.Venue, t.InSeq); *t != want {
		return fmt.Errorf("torn tick: got %+v, want %+v", *t, want)
	}
	return nil
}

// expectSeq checks that ticks are intact and numbered want, want+1, ...,
// and returns the number the next tick must have.
func expectSeq(t *testing.T, ticks []record.MarketTick, want uint64) uint64 {
	t.Helper()
	for i := range ticks {
		if ticks[i].InSeq != want {
			t.Fatalf("popped seq %d, want %d", ticks[i].InSeq, want)
		}
		if err := checkTick(&ticks[i]); err != nil {
			t.Fatal(err)
		}
		want++
	}
	return want
}

// newRingAt makes an SPSC or an MPSC (kind) of capacity whose indexes start
// at base.
func newRingAt(kind string, capacity int, base uint64) (fifo[record.MarketTick], error) {
	if kind == "SPSC" {
		r, err := NewSPSC[record.MarketTick](capacity)
		if err == nil {
			startSPSCAt(r, base)
		}
		return r, err
	}
	r, err := NewMPSC[record.MarketTick](capacity)
	if err == nil {
		startMPSCAt(r, base)
	}
	return r, err
}

// startSPSCAt moves an empty SPSC's indexes to base, so tests can run the
// index arithmetic across the uint64 wrap.
func startSPSCAt[T any](r *SPSC[T], base uint64) {
	r.head.Store(base)
	r.tail.Store(base)
	r.headCache = base
	r.tailCache = base
}

// startMPSCAt does the same for an MPSC: the slot of position base+k must not
// read as published, so its sequence is set to base+k (published is +1).
func startMPSCAt[T any](r *MPSC[T], base uint64) {
	r.head.Store(base)
	r.tail.Store(base)
	r.headCache.Store(base)
	for k := range r.size {
		r.slots[(base+k)&r.mask].seq.Store(base + k)
	}
}

const nearWrap = math.MaxUint64 - 37
