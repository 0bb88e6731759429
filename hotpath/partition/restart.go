package partition

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
	"thunderline/hotpath/window"
)

// Crash is a panic recovered from a partition loop: the value, the stack,
// and the ticks it had popped but not finished (the crashing tick first),
// which the restarted partition processes before reading its ring again.
type Crash struct {
	Value any
	Stack string
	// Rest holds the crashing tick and the rest of its batch.
	Rest []record.MarketTick
	// Processed is how many items (ticks and watermarks) of its stream the
	// partition had processed completely before the crash.
	Processed uint64
}

func (c *Crash) Error() string { return fmt.Sprintf("partition panic: %v", c.Value) }

// RunSafe is Run with the partition's panics recovered: it returns nil at
// the end of the input, or the Crash. The partition must not be used after
// a crash: Rebuild makes its successor.
func (p *Partition) RunSafe(stop *atomic.Bool) (crash *Crash) {
	defer func() {
		if v := recover(); v != nil {
			crash = &Crash{Value: v, Stack: string(debug.Stack()), Processed: p.processed}
			crash.Rest = append(crash.Rest, p.batch[p.cur:p.curN]...)
		}
	}()
	p.Run(stop)
	return nil
}

// InjectPanic makes the partition panic (once) when it meets the tick with
// ingest sequence inseq: fault injection for supervision tests and drills.
func (p *Partition) InjectPanic(inseq uint64) { p.inject.Store(inseq) }

// Outputs reports how many outputs of each kind the partition has pushed:
// windows, labels, rejects (and anomalies) and watermark marks.
func (p *Partition) Outputs() (windows, labels, rejects, marks uint64) {
	for i := range p.C.Rejects {
		rejects += p.C.Rejects[i].Load()
	}
	return p.C.Windows.Load(), p.C.Labels.Load(), rejects, p.C.Marks.Load()
}

// Rebuild makes the successor of a crashed partition: same id, rings,
// configuration and waiters, its state rebuilt by processing the same
// stream the crashed one had completed — its own ticks from the journal, in
// input order, with the watermarks the dispatcher placed between them
// (derived again with Watermark) — while its outputs are suppressed up to
// what the crashed partition had already pushed, so the output stream has no
// gap and no duplicate. Then the crash's unfinished items are processed
// normally. history calls yield for every market tick of the run in input
// order (all partitions' ticks: the watermark depends on them all) and stops
// when yield returns false; partitions is the partition count.
func Rebuild(old *Partition, crash *Crash, partitions int,
	history func(yield func(t *record.MarketTick) bool) error) (*Partition, error) {
	np, err := New(old.ID, old.cfg, old.syms, old.uni, old.in, old.out)
	if err != nil {
		return nil, err
	}
	np.marks, np.noSleep, np.wake, np.outWake = old.marks, old.noSleep, old.wake, old.outWake
	np.backoff.NoSleep = old.noSleep
	np.suppress.windows, np.suppress.labels, np.suppress.rejects, np.suppress.marks = old.Outputs()
	np.Restarts = old.Restarts + 1
	// The watermark starts from the run's original grid, as the
	// dispatcher's did (old.win.Config() is the grid in force at the crash,
	// after any window control): the journal's controls move it again.
	wc := old.cfg.Window
	wm := NewWatermark(wc.Step(), int64(wc.Lateness))
	own := uint32(old.ID)
	feed := func(t *record.MarketTick) bool { // false once the crashed stream is replayed
		if np.processed >= crash.Processed {
			return false
		}
		tk := *t
		np.Process(&tk)
		return np.processed < crash.Processed
	}
	err = history(func(t *record.MarketTick) bool {
		if t.Kind == record.KindControl {
			switch t.Action {
			case record.ControlRecipe:
				return feed(t)
			case record.ControlWindow:
				wm.Reconfigure(WindowStep(t.Price, t.Size), window.GridOrigin(t.TsEvent, wm.lateness, wm.step))
				return feed(t)
			}
			return true
		}
		if t.Symbol%uint32(partitions) == own && !feed(t) {
			return false
		}
		if w, ok := wm.Advance(t.TsEvent); ok {
			return feed(&record.MarketTick{Kind: record.KindWatermark, TsEvent: w, InSeq: t.InSeq})
		}
		return np.processed < crash.Processed
	})
	if err != nil {
		return nil, fmt.Errorf("rebuild partition %d from the journal: %w", old.ID, err)
	}
	if np.processed != crash.Processed {
		return nil, fmt.Errorf("rebuild partition %d: the journal holds %d of the %d items it had processed", old.ID, np.processed, crash.Processed)
	}
	for i := range crash.Rest {
		if np.Process(&crash.Rest[i]) {
			np.done.Store(true)
			break
		}
	}
	return np, nil
}

// DrainToEnd discards the rest of the partition's input until the end
// marker, so the dispatcher never blocks on a partition that escalated. The
// run is failing; what is discarded is counted as ticks, not applied.
func (p *Partition) DrainToEnd() {
	bo := ring.Backoff{NoSleep: p.noSleep, Waiter: p.wake, Check: func() bool { return p.in.Len() > 0 }}
	for {
		n := p.in.PopBatch(p.batch)
		if n == 0 {
			bo.Wait()
			continue
		}
		bo.Reset()
		for i := range p.batch[:n] {
			t := &p.batch[i]
			if t.Kind == record.KindWatermark && t.Flags&record.FlagEnd != 0 {
				p.done.Store(true)
				return
			}
			if t.Kind != record.KindWatermark {
				p.C.Ticks.Add(1)
			}
		}
	}
}
