package partition

import (
	"fmt"
	"sync/atomic"
	"time"

	"thunderline/hotpath/book"
	"thunderline/hotpath/normalize"
	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
	"thunderline/hotpath/window"
)

// OutKind says which field of an Output is set.
type OutKind uint8

const (
	OutWindow OutKind = iota + 1
	OutLabel
	OutReject
	// OutMark says the partition has emitted every window ending at or
	// before Mark: the decision stage may route the batches up to there.
	OutMark
)

// Output is what a partition hands to the journal writer, one fixed-size
// value per window, label fill or reject.
type Output struct {
	Kind      OutKind
	Partition uint16
	// After is the ingest sequence of the newest tick this output may
	// depend on: the newest one the partition had seen, its own or the one
	// behind a watermark or control. The journal writes the output after
	// that tick (and any control right behind it), so a journal cut
	// anywhere never holds an output without its inputs.
	After  uint64
	Window window.FeatureWindow
	Label  window.LabelFill
	Reject record.Reject
	Mark   int64
}

// Config assembles a partition.
type Config struct {
	Normalize normalize.Config
	Book      book.Config
	Window    window.Config
	Tenant    string
	// Batch is how many ticks the loop pops at once. Default 256.
	Batch int
	// NoSleep makes waits on empty or full rings yield instead of sleep
	// (lower latency, a busy core when idle; see ring.Backoff).
	NoSleep bool
	// Inline, when set, consumes the outputs on the partition's own
	// goroutine: Run calls it after each batch of ticks and instead of
	// waiting whenever the output ring is full. For a decision stage fused
	// with a single partition: one loop fewer, no hand-off between them.
	Inline func()
	// Warm, with WarmEvery, is called while the loop waits for ticks, at
	// most once per WarmEvery: the inline decision stage's warm-up
	// (decide.Stage.Warm), run on idle time only.
	Warm      func()
	WarmEvery time.Duration
}

// Counters are read by other goroutines (progress, metrics) while the
// partition runs; each is written by the partition only.
type Counters struct {
	Ticks     atomic.Uint64 // ticks popped (market data, not watermarks)
	Applied   atomic.Uint64 // ticks applied to book and windows
	Rejects   [record.NumReasons]atomic.Uint64
	Windows   atomic.Uint64
	Labels    atomic.Uint64
	Marks     atomic.Uint64 // watermark marks pushed
	OutWaits  atomic.Uint64 // times the output ring was full
	LastEvent atomic.Int64  // event time of the last tick applied
	_         [64]byte
}

// Partition runs one shard. Fields are owned by its goroutine.
type Partition struct {
	ID       uint16
	in       *ring.SPSC[record.MarketTick]
	out      *ring.MPSC[Output]
	val      *normalize.Validator
	books    *book.Books
	win      *window.Builder
	Windows  *window.Digest // chains of window hashes
	Labels   *window.Digest // chains of label hashes
	C        Counters
	outBuf   Output
	after    uint64 // newest ingest sequence seen (Output.After)
	batch    []record.MarketTick
	done     atomic.Bool
	backoff  ring.Backoff
	marks    bool  // emit OutMark outputs (a decision stage is listening)
	closedRx int64 // receive time of the watermark being processed (Window.ClosedRx)
	atEnd    bool  // the end-of-input flush is closing windows (Window.AtEnd)
	warmAt   int64 // MonoNow of the last Config.Warm call
	noSleep  bool
	wake     *ring.Waiter // parks this loop while its ring is empty
	outWake  *ring.Waiter // the consumer of out, woken after each push

	cfg       Config
	syms      *record.Symbols
	uni       *normalize.Universe
	processed uint64 // items of the stream fully processed
	cur, curN int    // position in the batch being processed (for a crash)
	inject    atomic.Uint64
	suppress  struct{ windows, labels, rejects, marks uint64 }
	// Restarts counts the crashes this partition's line has been rebuilt from.
	Restarts uint64
}

// Waiter is what the dispatcher wakes after pushing to this partition.
func (p *Partition) Waiter() *ring.Waiter { return p.wake }

// SetOutWaiter names the waiter of the output ring's consumer.
func (p *Partition) SetOutWaiter(w *ring.Waiter) { p.outWake = w }

// EmitMarks makes the partition report each watermark it has processed, for
// the decision stage that batches windows across partitions.
func (p *Partition) EmitMarks() { p.marks = true }

// New builds a partition reading in and writing to out. out may be nil: the
// partition then only folds digests (benchmarks, verification).
func New(id uint16, cfg Config, syms *record.Symbols, uni *normalize.Universe,
	in *ring.SPSC[record.MarketTick], out *ring.MPSC[Output]) (*Partition, error) {
	val, err := normalize.NewValidator(cfg.Normalize, uni)
	if err != nil {
		return nil, err
	}
	books, err := book.New(cfg.Book)
	if err != nil {
		return nil, err
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	p := &Partition{ID: id, in: in, out: out, val: val, books: books, cfg: cfg, syms: syms, uni: uni,
		Windows: window.NewDigest(), Labels: window.NewDigest(),
		batch: make([]record.MarketTick, cfg.Batch), noSleep: cfg.NoSleep, wake: ring.NewWaiter()}
	p.backoff.NoSleep = cfg.NoSleep
	wcfg := cfg.Window
	if wcfg.Depth == 0 {
		wcfg.Depth = books.Depth()
	}
	p.win, err = window.NewBuilder(wcfg, books, syms, cfg.Tenant, (*emitter)(p))
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Builder exposes the window builder (its config and stats).
func (p *Partition) Builder() *window.Builder { return p.win }

// Books exposes the partition's books (crossed-book counts, order counts).
func (p *Partition) Books() *book.Books { return p.books }

// SeqFull returns how many ticks could not be sequence-tracked.
func (p *Partition) SeqFull() uint64 { return p.val.SeqFull }

// Process runs one tick through normalize → book → window → features. It
// reports whether the tick was the end-of-input marker.
func (p *Partition) Process(t *record.MarketTick) (end bool) {
	end = p.process(t)
	p.processed++
	return end
}

func (p *Partition) process(t *record.MarketTick) (end bool) {
	if t.InSeq > p.after {
		p.after = t.InSeq
	}
	if n := p.inject.Load(); n != 0 && t.InSeq == n && t.Kind != record.KindWatermark && t.Kind != record.KindControl {
		p.inject.Store(0)
		panic(fmt.Sprintf("injected fault at tick %d", n))
	}
	if t.Kind == record.KindControl {
		switch t.Action {
		case record.ControlRecipe:
			p.win.SetRecipe(window.Recipe(t.Seq))
		case record.ControlWindow:
			// A valid control was checked by its sender; a bad one leaves
			// the grid as it was.
			_ = p.win.Reconfigure(time.Duration(t.Price), float64(t.Size)/1e6, t.TsEvent)
		}
		return false
	}
	if t.Kind == record.KindWatermark {
		end := t.Flags&record.FlagEnd != 0
		p.closedRx = t.TsRecv
		if end {
			p.atEnd = true
			p.win.Flush()
			p.atEnd = false
		} else {
			p.win.OnWatermark(t.TsEvent)
		}
		p.closedRx = 0
		if p.out != nil && p.marks {
			p.C.Marks.Add(1)
			if !replayed(&p.suppress.marks) {
				p.outBuf.Mark = t.TsEvent
				p.send(OutMark)
			}
		}
		return end
	}
	p.C.Ticks.Add(1)
	reject, anomaly, detail := p.val.Check(t)
	if anomaly != record.ReasonNone {
		p.reject(t, anomaly, detail)
	}
	if reject != record.ReasonNone {
		p.reject(t, reject, 0)
		return false
	}
	r, missed := p.win.OnTick(t)
	if r != record.ReasonNone {
		p.reject(t, r, 0)
		return false
	}
	if missed > 0 {
		p.reject(t, record.ReasonLate, int64(missed))
	}
	p.C.Applied.Add(1)
	p.C.LastEvent.Store(t.TsEvent)
	return false
}

func (p *Partition) reject(t *record.MarketTick, reason record.Reason, detail int64) {
	p.C.Rejects[reason].Add(1)
	if p.out == nil || replayed(&p.suppress.rejects) {
		return
	}
	p.outBuf.Reject = record.Reject{Tick: *t, Reason: reason, Detail: detail}
	p.send(OutReject)
}

// replayed reports whether the next output of a kind is one a restarted
// partition sent before it crashed (restart.go), counting it off: it is
// not sent again.
func replayed(pending *uint64) bool {
	if *pending == 0 {
		return false
	}
	*pending--
	return true
}

// send pushes outBuf, filled but for its kind, as an output of kind.
func (p *Partition) send(kind OutKind) {
	p.outBuf.Kind = kind
	p.push()
}

func (p *Partition) push() {
	p.outBuf.Partition = p.ID
	p.outBuf.After = p.after
	for !p.out.Push(&p.outBuf) {
		p.C.OutWaits.Add(1)
		if p.cfg.Inline != nil {
			p.cfg.Inline() // the consumer is this goroutine: make room
			continue
		}
		p.outWake.Wake()
		p.backoff.Wait()
	}
	p.backoff.Reset()
	p.outWake.Wake()
}

// emitter receives the builder's windows and labels.
type emitter Partition

func (e *emitter) Window(w *window.FeatureWindow) {
	p := (*Partition)(e)
	if p.fold(p.Windows, &p.C.Windows, &p.suppress.windows, w.Symbol, &w.Hash) {
		p.outBuf.Window = *w
		p.outBuf.Window.ClosedNs = window.MonoNow()
		p.outBuf.Window.ClosedRx = p.closedRx
		p.outBuf.Window.AtEnd = p.atEnd
		p.send(OutWindow)
	}
}

func (e *emitter) Label(l *window.LabelFill) {
	p := (*Partition)(e)
	if p.fold(p.Labels, &p.C.Labels, &p.suppress.labels, l.Symbol, &l.Hash) {
		p.outBuf.Label = *l
		p.send(OutLabel)
	}
}

// fold adds a window's or a label's hash to its digest and its counter,
// and reports whether to send it: not a replayed one, and there is an
// output ring.
func (p *Partition) fold(d *window.Digest, n *atomic.Uint64, pending *uint64, sym uint32, hash *[32]byte) bool {
	d.Add(sym, hash)
	n.Add(1)
	return !replayed(pending) && p.out != nil
}

// Run pops and processes ticks until the end-of-input marker, then returns.
// stop, when set, makes it return at the next empty ring.
func (p *Partition) Run(stop *atomic.Bool) {
	bo := ring.Backoff{NoSleep: p.noSleep, Waiter: p.wake, Check: func() bool { return p.in.Len() > 0 || (stop != nil && stop.Load()) }}
	for {
		n := p.in.PopBatch(p.batch)
		if n == 0 {
			if stop != nil && stop.Load() {
				return
			}
			if p.cfg.Warm != nil {
				if now := window.MonoNow(); now-p.warmAt >= int64(p.cfg.WarmEvery) {
					p.cfg.Warm()
					p.warmAt = window.MonoNow()
				}
			}
			bo.Wait()
			continue
		}
		bo.Reset()
		p.curN = n
		for i := range p.batch[:n] {
			p.cur = i
			if p.Process(&p.batch[i]) {
				p.done.Store(true)
				return
			}
			if p.cfg.Inline != nil && p.batch[i].Kind == record.KindWatermark {
				// Windows closed on it: decide now, not after the rest of
				// the batch's ticks.
				p.cfg.Inline()
			}
		}
		p.cur, p.curN = 0, 0
		if p.cfg.Inline != nil {
			p.cfg.Inline()
		}
	}
}

// Done reports whether the partition saw the end of its input.
func (p *Partition) Done() bool { return p.done.Load() }
