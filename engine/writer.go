package engine

import (
	"fmt"
	"sync/atomic"

	"thunderline/engine/runjournal"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

// sink consumes what the data plane produces: ticks in input order from the
// reader; windows, labels and rejects from the partitions (through the
// decision stage when one runs); decision traces from the stage. The journal
// writer and the verifier are sinks.
type sink interface {
	tick(t *record.MarketTick) error
	output(o *partition.Output) error
	trace(t *decide.DecisionTrace) error
	idle() error // every ring was empty
	finish() error
}

// outRing is the ring partition outputs arrive on: the partitions' MPSC
// ring, or the decision stage's SPSC pass-through.
type outRing interface {
	PopBatch(dst []partition.Output) int
	Len() int
}

// drain runs a sink on its own goroutine until stop is set and every ring is
// empty. It returns the first error of the sink; after an error it keeps
// draining (so the data plane never stalls on a broken sink) but stops
// calling the sink. ticks and traces may be nil.
//
// Order: every output reaches the sink after the ticks it depends on
// (Output.After, and a control right behind that tick), every trace after
// its window (DecisionTrace.AfterOuts) and its inputs. Producers push
// inputs before the outputs they cause (the dispatcher copies a tick to the
// journal ring before a partition sees it; the stage passes a window on
// before it decides on it), so what the sink waits for is already in its
// ring: a journal cut at any record never holds an output without its
// inputs.
func drain(s sink, ticks *ring.SPSC[record.MarketTick], outs outRing, traces *ring.SPSC[decide.DecisionTrace], stop *atomic.Bool, noSleep bool, wake *ring.Waiter) error {
	d := &drainer{s: s, ticks: ticks, outs: outs, traces: traces,
		tbuf: make([]record.MarketTick, 512), obuf: make([]partition.Output, 64), dbuf: make([]decide.DecisionTrace, 16)}
	bo := ring.Backoff{NoSleep: noSleep, Waiter: wake, Check: func() bool {
		return stop.Load() || (ticks != nil && ticks.Len() > 0) || outs.Len() > 0 || (traces != nil && traces.Len() > 0)
	}}
	for {
		n := d.popTicks(len(d.tbuf))
		n += d.popOuts()
		n += d.popTraces()
		if n > 0 {
			bo.Reset()
			continue
		}
		if d.err == nil {
			d.keep(s.idle())
		}
		if stop.Load() && (ticks == nil || ticks.Len() == 0) && outs.Len() == 0 && (traces == nil || traces.Len() == 0) {
			if d.err == nil {
				d.keep(s.finish())
			}
			return d.err
		}
		bo.Wait()
	}
}

// drainer is drain's state: the batches it pops and how far it has got.
type drainer struct {
	s      sink
	ticks  *ring.SPSC[record.MarketTick]
	outs   outRing
	traces *ring.SPSC[decide.DecisionTrace]
	tbuf   []record.MarketTick
	obuf   []partition.Output
	dbuf   []decide.DecisionTrace
	in     uint64 // ingest sequence of the newest tick handed to the sink
	nOuts  uint64 // outputs handed to the sink
	err    error
}

func (d *drainer) keep(err error) {
	if err != nil && d.err == nil {
		d.err = err
	}
}

// popTicks hands up to max ticks (and controls) to the sink.
func (d *drainer) popTicks(max int) int {
	if d.ticks == nil {
		return 0
	}
	k := d.ticks.PopBatch(d.tbuf[:max])
	for i := range d.tbuf[:k] {
		t := &d.tbuf[i]
		if t.Kind != record.KindControl {
			d.in = t.InSeq
		}
		if d.err == nil {
			d.keep(d.s.tick(t))
		}
	}
	return k
}

// ticksUpTo hands the sink every tick up to ingest sequence in, and the
// controls right behind it (an output may depend on one).
func (d *drainer) ticksUpTo(in uint64) {
	if d.ticks == nil {
		return
	}
	for d.in < in && d.popTicks(len(d.tbuf)) > 0 {
	}
	for {
		t := d.ticks.Peek()
		if t == nil || t.Kind != record.KindControl {
			return
		}
		d.popTicks(1)
	}
}

// popOuts hands one batch of outputs to the sink, each after its inputs.
func (d *drainer) popOuts() int {
	k := d.outs.PopBatch(d.obuf)
	for i := range d.obuf[:k] {
		o := &d.obuf[i]
		d.ticksUpTo(o.After)
		if d.err == nil {
			d.keep(d.s.output(o))
		}
		d.nOuts++
	}
	return k
}

// popTraces hands one batch of traces to the sink, each after its window
// and inputs.
func (d *drainer) popTraces() int {
	if d.traces == nil {
		return 0
	}
	k := d.traces.PopBatch(d.dbuf)
	for i := range d.dbuf[:k] {
		t := &d.dbuf[i]
		for d.nOuts < t.AfterOuts && d.popOuts() > 0 {
		}
		d.ticksUpTo(t.AfterIn)
		if d.err == nil {
			d.keep(d.s.trace(t))
		}
	}
	return k
}

// journalSink writes everything to the journal: the write-ahead log of the
// run. Records are acknowledged when the journal writes their block: when
// a block fills, and whenever the rings run dry.
type journalSink struct {
	j        *journal.Journal
	syms     *record.Symbols
	tenant   string
	symsDone int // symbols journaled so far (ids 1..symsDone-1)
	buf      []byte
	dirty    bool
	counts   [32]atomic.Uint64 // records appended by kind
	lastTick uint64            // ingest sequence of the last tick appended
	// flushedTick is the ingest sequence of the last tick acknowledged
	// (flushed); a partition rebuild waits for it.
	flushedTick  atomic.Uint64
	models       func(version uint64) *decide.Model   // router models by version, for expert ids
	routerYAML   func(version uint64) ([]byte, error) // a router version's config, for the journal
	operatorJSON func(id uint64) ([]byte, error)      // an operator action, for the journal
	// h, when set, makes write failures that can be retried wait (see
	// durable.go) instead of failing the sink.
	h *journalHealth
	// The last block handed over: acknowledged once Acked reaches
	// pendOff, which acknowledges every tick up to pendTick.
	pendOff, pendTick uint64
}

func newJournalSink(j *journal.Journal, syms *record.Symbols, tenant string) *journalSink {
	return &journalSink{j: j, syms: syms, tenant: tenant, symsDone: 1,
		buf: make([]byte, 0, window.MaxWindowSize)}
}

func (s *journalSink) append(kind uint8, b []byte) error {
	for {
		_, err := s.j.Append(kind, b)
		if err == nil {
			s.counts[kind].Add(1)
			s.dirty = true
			return nil
		}
		if err = s.retry(err); err != nil {
			return fmt.Errorf("journal %s record: %w", runjournal.KindName(kind), err)
		}
	}
}

// retry waits out a write failure that can be retried: the journal is down
// (reading stops, /readyz 503) and Flush is tried every retry interval
// until everything held is written. It returns err when it cannot be
// retried or the run gives up.
func (s *journalSink) retry(err error) error {
	for {
		if !retryable(err) || s.h == nil || s.h.giveUp.Load() {
			return err
		}
		s.h.down(err)
		s.h.pause()
		if s.h.giveUp.Load() {
			return err
		}
		if err = s.j.Flush(); err == nil {
			s.dirty = false
			s.flushedTick.Store(s.lastTick)
			s.h.up()
			return nil
		}
	}
}

// symbols journals every symbol interned since the last call, so a symbol's
// name is in the journal before any tick that names it.
func (s *journalSink) symbols() error {
	for n := s.syms.Len(); s.symsDone < n; s.symsDone++ {
		id := uint32(s.symsDone)
		s.buf = appendSymbol(s.buf[:0], id, s.syms.Name(id))
		if err := s.append(runjournal.RecSymbol, s.buf); err != nil {
			return err
		}
	}
	return nil
}

func (s *journalSink) tick(t *record.MarketTick) error {
	if t.Kind == record.KindControl {
		return s.control(t)
	}
	if int(t.Symbol) >= s.symsDone {
		if err := s.symbols(); err != nil {
			return err
		}
	}
	s.buf = record.AppendTick(s.buf[:0], t)
	if err := s.append(runjournal.RecTick, s.buf); err != nil {
		return err
	}
	s.lastTick = t.InSeq
	return nil
}

func (s *journalSink) output(o *partition.Output) error {
	switch o.Kind {
	case partition.OutWindow:
		s.buf = window.AppendWindowRecord(s.buf[:0], &o.Window, s.tenant, s.syms.Name(o.Window.Symbol))
		return s.append(runjournal.RecWindow, s.buf)
	case partition.OutLabel:
		s.buf = window.AppendLabel(s.buf[:0], &o.Label, s.syms.Name(o.Label.Symbol))
		return s.append(runjournal.RecLabel, s.buf)
	case partition.OutReject:
		s.buf = record.AppendReject(s.buf[:0], &o.Reject)
		return s.append(runjournal.RecReject, s.buf)
	}
	return fmt.Errorf("journal: output of unknown kind %d", o.Kind)
}

// idle flushes: the rings are dry, so everything appended so far is
// acknowledged now rather than when its block fills.
// control journals an in-band control at its place among the ticks: for a
// router swap, the router's config first, then the control record.
func (s *journalSink) control(t *record.MarketTick) error {
	if t.Action == record.ControlHalt && int(t.Seq) >= s.symsDone {
		if err := s.symbols(); err != nil { // the halted symbol's name first
			return err
		}
	}
	if t.Action == record.ControlOperator && s.operatorJSON != nil {
		b, err := s.operatorJSON(t.Seq)
		if err != nil {
			return err
		}
		if err := s.append(runjournal.RecOperator, b); err != nil {
			return err
		}
	}
	if t.Action == record.ControlRouter && s.routerYAML != nil {
		y, err := s.routerYAML(t.Seq)
		if err != nil {
			return err
		}
		if err := s.append(runjournal.RecRouter, y); err != nil {
			return err
		}
	}
	s.buf = appendControl(s.buf[:0], t)
	return s.append(runjournal.RecControl, s.buf)
}

// trace journals a decision trace and its lineage edges: window → trace,
// and trace → each expert it used.
func (s *journalSink) trace(t *decide.DecisionTrace) error {
	s.buf = decide.AppendTraceRecord(s.buf[:0], t, s.tenant, s.syms.Name(t.Symbol))
	if err := s.append(runjournal.RecTrace, s.buf); err != nil {
		return err
	}
	e := decide.Edge{From: t.WindowID, To: t.ID, Type: decide.EdgeWindowTrace, At: t.End}
	s.buf = decide.AppendEdge(s.buf[:0], &e)
	if err := s.append(runjournal.RecEdge, s.buf); err != nil {
		return err
	}
	if t.NShadow > 0 && s.models != nil {
		if m := s.models(t.RouterVersion); m != nil {
			for k := 0; k < int(t.NShadow) && k < len(m.Shadow); k++ {
				s.buf = decide.AppendShadow(s.buf[:0], t, k, m.Shadow[k].ID, s.tenant, s.syms.Name(t.Symbol))
				if err := s.append(runjournal.RecShadow, s.buf); err != nil {
					return err
				}
			}
		}
	}
	for l := 0; l < int(t.Layers); l++ {
		for k := 0; k < int(t.NSel[l]); k++ {
			a := &t.Actions[l][k]
			if ids := s.expertIDs(t.RouterVersion, l); int(a.Expert) < len(ids) {
				e = decide.Edge{From: t.ID, To: ids[a.Expert], Type: decide.EdgeTraceExpert, At: t.End}
				s.buf = decide.AppendEdge(s.buf[:0], &e)
				if err := s.append(runjournal.RecEdge, s.buf); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *journalSink) expertIDs(version uint64, layer int) [][16]byte {
	if s.models == nil {
		return nil
	}
	m := s.models(version)
	if m == nil || layer >= len(m.Layers) {
		return nil
	}
	return m.Layers[layer].IDs
}

// idle hands the open block to the journal (written inline, or by its
// background writer) and notes which tick is acknowledged once it is.
func (s *journalSink) idle() error {
	if s.dirty {
		if err := s.j.Submit(); err != nil {
			if err = s.retry(err); err != nil {
				return fmt.Errorf("journal flush: %w", err)
			}
		}
		s.dirty = false
		s.pendOff, s.pendTick = uint64(s.j.Next()), s.lastTick
	}
	if s.pendOff != 0 && uint64(s.j.Acked()) >= s.pendOff {
		s.flushedTick.Store(s.pendTick)
		s.pendOff = 0
	}
	return nil
}

// finish writes everything and waits for it.
func (s *journalSink) finish() error {
	if err := s.symbols(); err != nil {
		return err
	}
	for {
		err := s.j.Flush()
		if err == nil {
			s.flushedTick.Store(s.lastTick)
			return nil
		}
		if err = s.retry(err); err != nil {
			return fmt.Errorf("journal flush: %w", err)
		}
	}
}
