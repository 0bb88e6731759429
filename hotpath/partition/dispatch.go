package partition

import (
	"fmt"
	"math"
	"sync/atomic"

	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
	"thunderline/hotpath/window"
)

// Dispatcher routes ticks from the reader to partitions. It runs on the one
// goroutine that reads the input, so everything it derives depends on the
// input order alone:
//   - the ingest sequence InSeq (1, 2, ... in input order) of ticks that have
//     none (a journal replay keeps the recorded ones);
//   - the in-band watermark: newest event time seen less the allowed
//     lateness, rounded down to the window step; each time it moves, a
//     KindWatermark tick goes to every partition, at the same point of each
//     partition's stream whatever the number of partitions;
//   - the partition of a symbol: id mod the number of partitions.
type Dispatcher struct {
	parts       []*ring.SPSC[record.MarketTick]
	journal     *ring.SPSC[record.MarketTick]
	inseq       uint64
	mark        int64
	bo          ring.Backoff
	wm          Watermark
	wakeParts   []*ring.Waiter
	wakeJournal *ring.Waiter
	onControl   func(t *record.MarketTick, boundary int64)
	// Controls counts control records applied.
	Controls atomic.Uint64
	// LastInSeq is the ingest sequence of the last tick dispatched.
	LastInSeq atomic.Uint64
	// Dispatched counts ticks sent to partitions; Waits counts full-ring
	// waits (backpressure seen by the reader).
	Dispatched atomic.Uint64
	Waits      atomic.Uint64
	Marks      atomic.Uint64
}

// SetWaiters names the waiters to wake after pushing to each partition
// ring (parts, by index) and to the journal ring.
func (d *Dispatcher) SetWaiters(parts []*ring.Waiter, journal *ring.Waiter) {
	d.wakeParts, d.wakeJournal = parts, journal
}

// SetNoSleep makes the dispatcher yield instead of sleep while a ring is
// full (see ring.Backoff).
func (d *Dispatcher) SetNoSleep(on bool) { d.bo.NoSleep = on }

// NewDispatcher routes to parts and, if journal is not nil, copies every tick
// to it first (the write-ahead order is the input order). step and lateness
// are the window step and allowed lateness in ns.
func NewDispatcher(parts []*ring.SPSC[record.MarketTick], journal *ring.SPSC[record.MarketTick], step, lateness int64) (*Dispatcher, error) {
	if len(parts) == 0 || len(parts) > math.MaxUint16 {
		return nil, fmt.Errorf("dispatcher: %d partitions: must be between 1 and %d", len(parts), math.MaxUint16)
	}
	if step <= 0 || lateness < 0 {
		return nil, fmt.Errorf("dispatcher: step %d and lateness %d: step must be positive, lateness not negative", step, lateness)
	}
	return &Dispatcher{parts: parts, journal: journal, mark: math.MinInt64, wm: NewWatermark(step, lateness)}, nil
}

// PartitionOf returns the partition index of sym.
func (d *Dispatcher) PartitionOf(sym uint32) int { return int(sym % uint32(len(d.parts))) }

// InSeq returns the last ingest sequence assigned.
func (d *Dispatcher) InSeq() uint64 { return d.inseq }

func (d *Dispatcher) push(r *ring.SPSC[record.MarketTick], t *record.MarketTick) {
	for !r.Push(t) {
		d.Waits.Add(1)
		d.bo.Wait()
	}
	d.bo.Reset()
}

// Dispatch sends ticks on, waiting (with backoff) while a ring is full.
func (d *Dispatcher) Dispatch(ticks []record.MarketTick) {
	for i := range ticks {
		t := &ticks[i]
		if t.Kind == record.KindControl {
			d.control(t)
			continue
		}
		if t.InSeq == 0 {
			d.inseq++
			t.InSeq = d.inseq
		} else {
			d.inseq = t.InSeq
		}
		d.LastInSeq.Store(d.inseq)
		if d.journal != nil {
			d.push(d.journal, t)
			d.wakeJournal.Wake()
		}
		pi := d.PartitionOf(t.Symbol)
		d.push(d.parts[pi], t)
		if pi < len(d.wakeParts) {
			d.wakeParts[pi].Wake()
		}
		d.Dispatched.Add(1)
		if wm, ok := d.wm.Advance(t.TsEvent); ok {
			d.mark = wm
			d.Marks.Add(1)
			// TsRecv: the receive time of the tick that moved the watermark,
			// for the windows it closes (packet → trace latency).
			d.broadcast(record.MarketTick{Kind: record.KindWatermark, TsEvent: wm, TsRecv: t.TsRecv})
		}
	}
}

// OnControl, when set, is called (on the dispatcher's goroutine) for each
// control record with the boundary it takes effect after: the current
// watermark. Every batch ending after it is routed after this call, in any
// replay of the same input too.
func (d *Dispatcher) SetOnControl(f func(t *record.MarketTick, boundary int64)) { d.onControl = f }

// control journals a control record at its place in the input and hands it
// to the control hook. It does not go to partitions.
func (d *Dispatcher) control(t *record.MarketTick) {
	if d.onControl != nil {
		d.onControl(t, d.mark)
	}
	if d.journal != nil {
		d.push(d.journal, t)
		d.wakeJournal.Wake()
	}
	switch t.Action {
	case record.ControlWindow:
		t.TsEvent = d.mark
		d.wm.Reconfigure(WindowStep(t.Price, t.Size), window.GridOrigin(d.mark, d.wm.lateness, d.wm.step))
		d.broadcast(*t)
	case record.ControlRecipe:
		// Partition controls go in band to every partition, at the same
		// point of each one's stream.
		d.broadcast(*t)
	}
	d.Controls.Add(1)
}

// broadcast sends m to every partition, stamped with the ingest sequence
// of the tick before it (Output.After: what outputs it causes depend on).
func (d *Dispatcher) broadcast(m record.MarketTick) {
	m.InSeq = d.inseq
	for i, p := range d.parts {
		d.push(p, &m)
		if i < len(d.wakeParts) {
			d.wakeParts[i].Wake()
		}
	}
}

// End tells every partition the input is over.
func (d *Dispatcher) End() {
	d.Marks.Add(1)
	d.broadcast(record.MarketTick{Kind: record.KindWatermark, TsEvent: math.MaxInt64, Flags: record.FlagEnd})
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Watermark derives the in-band watermark from ticks in input order: the
// newest event time less the allowed lateness, rounded down to the window
// step. The dispatcher and a partition rebuilding from the journal use the
// same code, so they place the same watermarks at the same ticks.
type Watermark struct {
	maxTs, mark, step, lateness int64
	origin                      int64
}

// NewWatermark starts a watermark for a window step and allowed lateness.
func NewWatermark(step, lateness int64) Watermark {
	return Watermark{maxTs: math.MinInt64, mark: math.MinInt64, step: step, lateness: lateness}
}

// Reconfigure moves the watermark's grid: from the boundary origin on,
// watermarks fall on origin + k*step.
func (w *Watermark) Reconfigure(step, origin int64) {
	if step > 0 {
		w.step, w.origin = step, origin
	}
}

// WindowStep is the window step of a ControlWindow: length ns and overlap
// in parts per million.
func WindowStep(length int64, overlapPPM uint32) int64 {
	return max(int64(float64(length)*(1-float64(overlapPPM)/1e6)), 1)
}

// Advance takes the event time of the next tick and reports the new
// watermark when it moved.
func (w *Watermark) Advance(ts int64) (int64, bool) {
	if ts <= w.maxTs {
		return 0, false
	}
	w.maxTs = ts
	wm := w.origin + floorDiv(w.maxTs-w.lateness-w.origin, w.step)*w.step
	if wm <= w.mark {
		return 0, false
	}
	w.mark = wm
	return wm, true
}
