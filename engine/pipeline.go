package engine

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"thunderline/actors/tree"
	"thunderline/adapters/edgar/filings"
	"thunderline/engine/config"
	"thunderline/engine/edgar"
	"thunderline/engine/report"
	"thunderline/engine/runjournal"
	"thunderline/engine/ship"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/normalize"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

// Source is where ticks come from: a feed, a file, a journal. Next fills
// dst and returns how many ticks it wrote, io.EOF at the end. It is called
// from one goroutine, per batch (not per tick).
type Source interface {
	Next(dst []record.MarketTick) (int, error)
}

// Pacing says how the reader paces the source.
type Pacing int

const (
	// PaceMax reads as fast as the pipeline takes ticks.
	PaceMax Pacing = iota
	// PaceRealtime holds each tick back until the wall clock has advanced
	// as far from the start as its event time has from the first tick's.
	PaceRealtime
)

// Options assemble a pipeline.
type Options struct {
	Profile *config.Profile
	Symbols *record.Symbols
	// Partitions overrides the profile's partition count when > 0.
	Partitions int
	// JournalDir, when set, journals the run there (the write-ahead log).
	JournalDir string
	Pacing     Pacing
	// For stops reading after this long of wall-clock time (0: until the
	// source ends or the context is cancelled).
	For time.Duration
	// Progress, when set, is called every ProgressEvery from a monitor
	// goroutine.
	Progress      func(Progress)
	ProgressEvery time.Duration
	Logger        *slog.Logger
	// Verify, when set, checks derived windows and labels against recorded
	// hashes instead of journaling (replay --verify).
	Verify *Recorded
	// Inputs names the inputs, for the summary.
	Inputs []string
	// Wire makes the decision stage measure packet receipt → trace: the
	// source stamps ticks with this host's receive times (a live MoldUDP64
	// feed).
	Wire bool
}

// Progress is a snapshot of a running pipeline.
type Progress struct {
	Elapsed    time.Duration
	Ticks      uint64 // dispatched
	Applied    uint64
	Windows    uint64
	Rejects    uint64
	Backlog    uint64        // dispatched but not yet processed by partitions
	Lag        time.Duration // realtime pacing: how far event time trails the wall clock
	Acked      uint64        // journal records acknowledged
	InputBytes int64         // for file inputs: bytes consumed, when known
	InputTotal int64         // for file inputs: total bytes, when known
	Decisions  uint64        // decision traces
	RingWaits  uint64        // times the reader found a partition ring full and waited
}

// positioned is a source that reports how far it has read (file inputs).
type positioned interface{ Position() (int64, int64) }

// wireCounted is a live source whose transport counts what the wire
// brought (safe from any goroutine): /metrics exports them.
type wireCounted interface{ WireCounts() map[string]uint64 }

// Pipeline is the data plane of one run.
type Pipeline struct {
	// shipping is the Postgres shipper of this run, if any (metrics only).
	shipping atomic.Pointer[ship.Shipper]

	opts    Options
	prof    *config.Profile
	syms    *record.Symbols
	uni     *normalize.Universe
	parts   []*partition.Partition
	inRings []*ring.SPSC[record.MarketTick]
	tRing   *ring.SPSC[record.MarketTick]
	outRing *ring.MPSC[partition.Output]
	// The decision stage's loop state (stageStep); inline: it runs on the
	// single partition's goroutine (stage.inline).
	stageBuf    []partition.Output
	passBackoff ring.Backoff
	inline      bool
	disp        *partition.Dispatcher
	jour        *journal.Journal
	jsink       *journalSink
	jh          journalHealth // the journal's durability (durable.go)
	retention   struct {      // journal retention passes (beside.go)
		deleted, freed, kept atomic.Uint64
	}
	vsink     *verifySink
	log       *slog.Logger
	symTick   []uint64 // ticks per symbol id, counted by the reader
	wcfg      window.Config
	firstTs   atomic.Int64 // event time of the first tick (realtime pacing)
	startWall atomic.Int64 // wall time the run started, ns since the epoch
	tel       telemetry
	src       atomic.Pointer[positioned] // the running source, if it reports its position (progress)
	wire      atomic.Pointer[wireCounted]

	// Decision stage (nil when the router is disabled).
	stage  *decide.Stage
	pass   *ring.SPSC[partition.Output]     // stage → sink: windows, labels, rejects
	warmed byte                             // what warm-ups read (kept so the reads are)
	trRing *ring.SPSC[decide.DecisionTrace] // stage → sink: traces
	// On the stage's goroutine: the newest ingest sequence its outputs
	// depend on, and how many outputs it passed on (trace ordering).
	stageAfter, passed uint64
	traces             *window.Digest // chains of trace hashes, by symbol
	nTraces            atomic.Uint64
	shadows            *window.Digest // chains of shadow decision hashes, by symbol
	nShadow            atomic.Uint64
	models             sync.Map // version → *decide.Model

	// Router versions: configs and models by version, the newest scheduled,
	// and controls waiting for the reader.
	routerCfgs  sync.Map // version → config.Router
	lastVersion atomic.Uint64
	reloadMu    sync.Mutex
	controls    chan record.MarketTick
	controlErrs atomic.Uint64
	feedEvents  [3]atomic.Uint64 // a live feed's gap, re-request and lost events (record.ControlGap…), live or replayed
	// chanEvents are the same by feed channel (the control's Venue).
	chanEvents [config.MaxMoldChannels][3]atomic.Uint64
	// Operator actions by id (operator.go); opSeq is the last id given.
	ops     sync.Map
	opMu    sync.Mutex
	opSeq   uint64
	opsSent atomic.Uint64
	// pendingOps: guard → id of a supervision action not applied yet.
	pendingOps sync.Map

	running atomic.Bool
	// Partitions as they run (a crash replaces one with its rebuilt
	// successor) and their supervision status.
	live []atomic.Pointer[partition.Partition]
	sups []partSup
	failure
	// Supervisor, when set before Run, decides partition restarts.
	Supervisor Supervisor
	ladder     *Ladder
	tree       *tree.Tree
	// OnTrace and OnWindow, when set before Run, see every trace and window
	// on the sink's goroutine (the dashboard and pub/sub feeds); they must
	// be quick.
	OnTrace  func(t *decide.DecisionTrace)
	OnWindow func(w *window.FeatureWindow)
	// OnJournal, when set before Run, hears of the journal's outages and
	// free-space warnings (durable.go); it must be quick.
	OnJournal func(JournalEvent)
	// OnEdgarWindow and OnEdgarTrace, when set before Run, see the windows
	// and traces of the profile's filings path (edgar section).
	OnEdgarWindow func(w *filings.Window)
	OnEdgarTrace  func(t *decide.DecisionTrace, key string)
	// edgarLive is the filings path's live view when the profile has one.
	edgarLive *edgar.Live

	// wrapSink, set by tests before Run, wraps the sink (a sink throttled
	// to a known rate makes overload by construction).
	wrapSink func(sink) sink

	// Waiters: idle loops park on them, producers wake them.
	stageWake *ring.Waiter
	sinkWake  *ring.Waiter
}

// New assembles a pipeline from a profile.
func New(opts Options) (*Pipeline, error) {
	if opts.Profile == nil {
		return nil, errors.New("engine: no profile")
	}
	if opts.Symbols == nil {
		opts.Symbols = record.NewSymbols()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	prof := opts.Profile
	n := prof.NumPartitions()
	if opts.Partitions > 0 {
		n = opts.Partitions
	}
	ncfg, err := prof.NormalizeConfig()
	if err != nil {
		return nil, err
	}
	wcfg, err := prof.WindowConfig()
	if err != nil {
		return nil, err
	}
	pcap, jcap, ocap := prof.RingSizes()
	p := &Pipeline{opts: opts, prof: prof, syms: opts.Symbols, uni: normalize.NewUniverse(true),
		log: opts.Logger, symTick: make([]uint64, record.MaxSymbols), wcfg: wcfg}
	if p.outRing, err = ring.NewMPSC[partition.Output](ocap); err != nil {
		return nil, fmt.Errorf("rings.output: %w", err)
	}
	pcfg := partition.Config{Normalize: ncfg, Book: prof.BookConfig(), Window: wcfg, Tenant: prof.TenantName(), NoSleep: prof.NoSleep()}
	p.stageBuf, p.passBackoff = make([]partition.Output, 64), ring.Backoff{NoSleep: prof.NoSleep()}
	if p.inline = prof.Stage.Inline && n == 1 && prof.Router.RouterEnabled(); p.inline {
		pcfg.Inline = p.stageInline
		if w := time.Duration(prof.Stage.Warm); w > 0 {
			pcfg.Warm, pcfg.WarmEvery = p.warmStage, w
		}
	}
	for i := 0; i < n; i++ {
		in, err := ring.NewSPSC[record.MarketTick](pcap)
		if err != nil {
			return nil, fmt.Errorf("rings.partition: %w", err)
		}
		part, err := partition.New(uint16(i), pcfg, p.syms, p.uni, in, p.outRing)
		if err != nil {
			return nil, err
		}
		p.inRings = append(p.inRings, in)
		p.parts = append(p.parts, part)
	}
	if opts.JournalDir != "" && opts.Verify == nil {
		if p.tRing, err = ring.NewSPSC[record.MarketTick](jcap); err != nil {
			return nil, fmt.Errorf("rings.journal: %w", err)
		}
		jo := prof.JournalOptions(opts.JournalDir)
		jo.Logger = opts.Logger
		if p.jour, err = journal.Open(jo); err != nil {
			return nil, fmt.Errorf("open journal: %w", err)
		}
		if prof.Postgres.Enabled {
			// Held for Postgres from the start (retention keeps it until
			// the shipper has it all).
			if err := runjournal.SetHold(opts.JournalDir, ship.HoldName); err != nil {
				p.jour.Close()
				return nil, err
			}
		}
		p.jsink = newJournalSink(p.jour, p.syms, prof.TenantName())
		p.jh.every, p.jh.minFree, p.jh.log = prof.JournalRetryInterval(), prof.JournalMinFree(), p.log
		p.jh.inline = jo.Compressors == 0
		p.jh.free.Store(-1)
		meta, err := runjournal.EncodeMeta(prof)
		if err != nil {
			p.jour.Close()
			return nil, err
		}
		if err := p.jsink.append(runjournal.RecMeta, meta); err != nil {
			p.jour.Close()
			return nil, err
		}
	}
	if opts.Verify != nil {
		p.vsink = newVerifySink(opts.Verify, p.syms)
	}
	if prof.Router.RouterEnabled() {
		if err := p.newStage(); err != nil {
			if p.jour != nil {
				p.jour.Close()
			}
			return nil, err
		}
	}
	p.live = make([]atomic.Pointer[partition.Partition], len(p.parts))
	p.sups = make([]partSup, len(p.parts))
	for i, part := range p.parts {
		p.live[i].Store(part)
	}
	p.disp, err = partition.NewDispatcher(p.inRings, p.tRing, wcfg.Step(), int64(wcfg.Lateness))
	if err != nil {
		return nil, err
	}
	p.disp.SetNoSleep(prof.NoSleep())
	p.sinkWake, p.stageWake = ring.NewWaiter(), ring.NewWaiter()
	p.controls = make(chan record.MarketTick, 16)
	var partWakes []*ring.Waiter
	for _, part := range p.parts {
		partWakes = append(partWakes, part.Waiter())
		if p.stage != nil {
			part.SetOutWaiter(p.stageWake)
		} else {
			part.SetOutWaiter(p.sinkWake)
		}
	}
	p.disp.SetWaiters(partWakes, p.sinkWake)
	p.disp.SetOnControl(func(t *record.MarketTick, boundary int64) {
		p.countChannelEvent(t)
		p.onControl(t, boundary)
	})
	return p, nil
}

// Partitions returns the partition count.
func (p *Pipeline) Partitions() int { return len(p.parts) }

// Run reads src to its end (or until ctx is cancelled or opts.For passes),
// drains every ring, flushes the journal and returns the summary. An error
// of the source stops reading; what was read before it is still processed,
// journaled and summarized, and the error is returned with the summary.
func (p *Pipeline) Run(ctx context.Context, src Source) (*Summary, error) {
	start := time.Now()
	p.startWall.Store(start.UnixNano())
	if wc, ok := src.(wireCounted); ok {
		p.wire.Store(&wc)
	}
	if pf, ok := src.(positioned); ok {
		p.src.Store(&pf)
	}
	var wg sync.WaitGroup
	for i := range p.parts {
		wg.Add(1)
		go func() { defer wg.Done(); p.supervise(i) }()
	}
	var stopSink atomic.Bool
	sinkErr := make(chan error, 1)
	var s sink = discardSink{}
	if p.jsink != nil {
		s = p.jsink
	} else if p.vsink != nil {
		s = p.vsink
	}
	var outs outRing = p.outRing
	var partsDone atomic.Bool
	stageDone := make(chan struct{})
	switch {
	case p.inline:
		outs = p.pass
		// Runs on the partition's goroutine; what is left when it ends is
		// taken below, before stageDone.
	case p.stage != nil:
		outs = p.pass
		go func() { defer close(stageDone); p.runStage(&partsDone) }()
	default:
		close(stageDone)
	}
	if p.wrapSink != nil {
		s = p.wrapSink(s)
	}
	s = tapSink{sink: s, p: p, onTrace: p.OnTrace, onWindow: p.OnWindow}
	if p.jsink != nil {
		// After New: the meta record is written (or Open failed) already.
		p.jh.on = p.OnJournal
		p.jsink.h = &p.jh
		// Stopping the run while the journal is down gives up on it.
		giveUp := func() { p.jh.giveUp.Store(true); p.jour.Abort() }
		defer context.AfterFunc(ctx, giveUp)()
		watchStop := make(chan struct{})
		defer close(watchStop)
		go p.jh.watch(p.jour, p.opts.JournalDir, watchStop)
		if p.opts.For > 0 {
			// A bounded run does not wait for the disk for ever either.
			t := time.AfterFunc(p.opts.For+journalGrace, giveUp)
			defer t.Stop()
		}
	}
	p.running.Store(true)
	defer p.running.Store(false)
	// The sink parks on its waiter whatever rings.wait says: durability is
	// off the decision path, and a sink spinning on runtime.Gosched takes
	// turns on the cores the reader, partitions and stage need (yield
	// waits are for those loops).
	go func() { sinkErr <- drain(s, p.tRing, outs, p.trRing, &stopSink, false, p.sinkWake) }()
	stopProgress := func() {}
	if p.opts.Progress != nil {
		stopProgress = report.Every(p.opts.ProgressEvery, func() { p.opts.Progress(p.Snapshot(start)) })
	}

	readErr := p.read(ctx, src, start)
	p.disp.End()
	wg.Wait()
	partsDone.Store(true)
	if p.inline {
		p.stageInline() // the outputs of the partition's last batch
		p.stage.Flush()
		close(stageDone)
	}
	p.stageWake.Wake()
	<-stageDone
	stopSink.Store(true)
	p.sinkWake.Wake()
	werr := <-sinkErr
	stopProgress()

	sum := p.summary(time.Since(start))
	if p.jour != nil {
		end, err := encodeEnd(sum)
		if err == nil {
			_, err = p.jour.Append(runjournal.RecEnd, end)
		}
		if err == nil {
			err = p.jour.Close()
		} else {
			p.jour.Close()
		}
		werr = errors.Join(werr, err)
		st := p.jour.Stats()
		sum.Journal = &JournalSummary{Dir: p.opts.JournalDir, Records: uint64(p.jour.Next()),
			Acked: uint64(p.jour.Acked()), BytesRaw: st.RawBytes, BytesStored: st.StoredBytes}
	}
	if p.vsink != nil {
		sum.Verify = p.vsink.result(sum)
	}
	p.failMu.Lock()
	ferr := p.failErr
	p.failMu.Unlock()
	return sum, errors.Join(ferr, readErr, werr)
}

// read is the reader loop: source → dispatcher, on the calling goroutine.
func (p *Pipeline) read(ctx context.Context, src Source, start time.Time) error {
	buf := make([]record.MarketTick, 256)
	if p.opts.Pacing == PaceRealtime {
		buf = buf[:64] // smaller batches pace more smoothly
	}
	var deadline time.Time
	if p.opts.For > 0 {
		deadline = start.Add(p.opts.For)
	}
	var firstTs int64
	haveFirst := false
	for batch := 0; ; batch++ {
		if p.jh.isDown.Load() {
			p.jh.waitUp(ctx, &p.failed)
		}
		if batch&63 == 0 || p.failed.Load() {
			if ctx.Err() != nil || p.failed.Load() {
				return nil
			}
			if !deadline.IsZero() && time.Now().After(deadline) {
				return nil
			}
		}
		for pending := true; pending && p.controls != nil; {
			select {
			case c := <-p.controls:
				p.disp.Dispatch([]record.MarketTick{c})
			default:
				pending = false
			}
		}
		n, err := src.Next(buf)
		if n > 0 {
			for i := range buf[:n] {
				if buf[i].Kind != record.KindControl {
					p.symTick[buf[i].Symbol%record.MaxSymbols]++
				}
			}
			p.disp.Dispatch(buf[:n])
			if p.opts.Pacing == PaceRealtime {
				last := buf[n-1].TsEvent
				if !haveFirst {
					firstTs, haveFirst = buf[0].TsEvent, true
					p.firstTs.Store(firstTs)
				}
				if wait := time.Duration(last-firstTs) - time.Since(start); wait > 0 {
					if p.prof.NoSleep() && wait < 2*time.Millisecond {
						// A timer's granularity here is about 0.5ms: yield until
						// the event time is due instead, so ticks go out smoothly.
						for time.Since(start) < time.Duration(last-firstTs) {
							runtime.Gosched()
						}
					} else {
						select {
						case <-ctx.Done():
							return nil
						case <-time.After(wait):
						}
					}
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		if n == 0 {
			return nil
		}
	}
}

// Snapshot reads the pipeline's counters (safe while it runs).
func (p *Pipeline) Snapshot(start time.Time) Progress {
	pr := Progress{Elapsed: time.Since(start), Ticks: p.disp.Dispatched.Load(), RingWaits: p.disp.Waits.Load()}
	var lastEvent int64
	p.eachPart(func(part *partition.Partition) {
		pr.Applied += part.C.Applied.Load()
		pr.Windows += part.C.Windows.Load()
		for i := range part.C.Rejects {
			if !record.Reason(i).IsAnomaly() && record.Reason(i) != record.ReasonLate {
				pr.Rejects += part.C.Rejects[i].Load()
			}
		}
		pr.Backlog += uint64(p.inRings[part.ID].Len())
		lastEvent = max(lastEvent, part.C.LastEvent.Load())
	})
	if first := p.firstTs.Load(); p.opts.Pacing == PaceRealtime && first != 0 && lastEvent != 0 {
		pr.Lag = max(0, time.Since(start)-time.Duration(lastEvent-first))
	}
	if p.jour != nil {
		pr.Acked = uint64(p.jour.Acked())
	}
	pr.Decisions = p.nTraces.Load()
	if pf := p.src.Load(); pf != nil {
		pr.InputBytes, pr.InputTotal = (*pf).Position()
	}
	return pr
}

type discardSink struct{}

func (discardSink) tick(*record.MarketTick) error     { return nil }
func (discardSink) output(*partition.Output) error    { return nil }
func (discardSink) trace(*decide.DecisionTrace) error { return nil }
func (discardSink) idle() error                       { return nil }
func (discardSink) finish() error                     { return nil }

func hexDigest(d [32]byte) string { return hex.EncodeToString(d[:]) }

// tapSink passes every trace and window to its taps after the sink has it.
type tapSink struct {
	sink
	p        *Pipeline
	onTrace  func(t *decide.DecisionTrace)
	onWindow func(w *window.FeatureWindow)
}

func (t tapSink) trace(tr *decide.DecisionTrace) error {
	err := t.sink.trace(tr)
	if t.onTrace != nil {
		t.onTrace(tr)
	}
	return err
}

func (t tapSink) output(o *partition.Output) error {
	err := t.sink.output(o)
	switch o.Kind {
	case partition.OutWindow:
		t.p.tel.window(t.p, &o.Window)
		if t.onWindow != nil {
			t.onWindow(&o.Window)
		}
	case partition.OutLabel:
		t.p.tel.label(t.p, &o.Label)
	}
	return err
}

// Profile returns the pipeline's profile.
func (p *Pipeline) Profile() *config.Profile { return p.prof }

// Close releases what New opened (the journal) when Run will not be called.
func (p *Pipeline) Close() error {
	if p.jour != nil {
		return p.jour.Close()
	}
	return nil
}
