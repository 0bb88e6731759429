package engine

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"thunderline/engine/runjournal"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
	"thunderline/persist/journal"
)

// Partition supervision: a panic in a partition loop restarts that
// partition alone. Its successor rebuilds the state from the journal (the
// same ticks and watermarks, outputs suppressed up to what was already
// pushed), finishes the batch it crashed in and reads its ring on: no tick
// lost, no output twice. Restarts back off (10 ms doubling to 1 s); more
// than MaxPartitionRestarts crashes of one partition escalate: the run
// stops with the crash as its error. Without a journal there is nothing to
// rebuild from, and a crash escalates at once.
const MaxPartitionRestarts = 5

// PartStatus is what supervision knows of a partition, for /actors.
type PartStatus struct {
	Restarts  uint64
	LastError string
	LastAt    time.Time
	Failed    bool
}

type partSup struct {
	mu     sync.Mutex
	status PartStatus
}

// part returns the running incarnation of partition i.
func (p *Pipeline) part(i int) *partition.Partition { return p.live[i].Load() }

// eachPart calls f on every partition's running incarnation.
func (p *Pipeline) eachPart(f func(*partition.Partition)) {
	for i := range p.live {
		f(p.live[i].Load())
	}
}

// PartitionStatus returns partition i's supervision status.
func (p *Pipeline) PartitionStatus(i int) PartStatus {
	s := &p.sups[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// InjectPartitionPanic makes partition i panic once at the tick with ingest
// sequence inseq (fault injection for supervision drills and tests).
func (p *Pipeline) InjectPartitionPanic(i int, inseq uint64) { p.part(i).InjectPanic(inseq) }

// supervise runs partition i until the end of the input, restarting it on
// crashes.
func (p *Pipeline) supervise(i int) {
	part := p.part(i)
	for restarts := 0; ; restarts++ {
		crash := part.RunSafe(nil)
		if crash == nil {
			return
		}
		sup := &p.sups[i]
		sup.mu.Lock()
		sup.status.Restarts++
		sup.status.LastError = crash.Error()
		sup.status.LastAt = time.Now()
		sup.mu.Unlock()
		p.log.Error("partition crashed", "partition", i, "err", crash.Error(), "restarts", restarts+1)
		var err error
		delay := min(10*time.Millisecond<<restarts, time.Second)
		switch {
		case p.jour == nil:
			err = errors.New("no journal to rebuild it from")
		case p.Supervisor != nil:
			var ok bool
			if ok, delay = p.Supervisor.PartitionCrashed(i, crash); !ok {
				err = errors.New("its supervisor gave up")
			}
		case restarts+1 > MaxPartitionRestarts:
			err = fmt.Errorf("%d restarts", restarts+1)
		}
		if err == nil {
			time.Sleep(delay)
			var np *partition.Partition
			np, err = p.rebuild(part, crash)
			if err == nil {
				p.live[i].Store(np)
				if p.Supervisor != nil {
					p.Supervisor.PartitionRestarted(i)
				}
				part = np
				if np.Done() {
					return
				}
				continue
			}
		}
		p.escalate(i, crash, err)
		part.DrainToEnd()
		return
	}
}

// Supervisor decides partition restarts (the actor tree's flow actors).
type Supervisor interface {
	PartitionCrashed(i int, crash error) (restart bool, delay time.Duration)
	PartitionRestarted(i int)
}

// Fail stops the run with err (an escalation from the actor tree).
func (p *Pipeline) Fail(err error) {
	p.failMu.Lock()
	if p.failErr == nil {
		p.failErr = err
	}
	p.failMu.Unlock()
	p.failed.Store(true)
}

// escalate stops the run: partition i cannot go on.
func (p *Pipeline) escalate(i int, crash *partition.Crash, why error) {
	sup := &p.sups[i]
	sup.mu.Lock()
	sup.status.Failed = true
	sup.mu.Unlock()
	err := fmt.Errorf("partition %d: %w; not restarted: %v", i, crash, why)
	p.log.Error("partition escalated; the run stops", "partition", i, "err", err)
	p.failMu.Lock()
	if p.failErr == nil {
		p.failErr = err
	}
	p.failMu.Unlock()
	p.failed.Store(true)
}

// rebuild waits until the journal holds every tick dispatched so far, then
// rebuilds the partition from it.
func (p *Pipeline) rebuild(old *partition.Partition, crash *partition.Crash) (*partition.Partition, error) {
	target := p.disp.LastInSeq.Load()
	deadline := time.Now().Add(30 * time.Second)
	for p.jsink.flushedTick.Load() < target {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the journal did not reach tick %d in 30s", target)
		}
		p.sinkWake.Wake()
		time.Sleep(time.Millisecond)
	}
	history := func(yield func(t *record.MarketTick) bool) error {
		r, err := journal.NewReader(p.opts.JournalDir, 0)
		if err != nil {
			return err
		}
		defer r.Close()
		var t record.MarketTick
		for {
			kind, _, payload, err := r.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			switch kind {
			case runjournal.RecTick:
				if err := record.DecodeTick(payload, &t); err != nil {
					return err
				}
			case runjournal.RecControl:
				if err := decodeControl(payload, &t); err != nil {
					return err
				}
			default:
				continue
			}
			if !yield(&t) {
				return nil
			}
		}
	}
	return partition.Rebuild(old, crash, len(p.parts), history)
}

// failure state of the run.
type failure struct {
	failMu  sync.Mutex
	failErr error
	failed  atomic.Bool
}
