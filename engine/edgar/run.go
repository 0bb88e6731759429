package edgar

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/adapters/edgar/filings"
	"thunderline/adapters/edgar/source"
	"thunderline/adapters/edgar/text"
	"thunderline/engine/config"
	"thunderline/engine/report"
	"thunderline/engine/routermodel"
	"thunderline/engine/runjournal"
	"thunderline/engine/ship"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
	"thunderline/persist/journal"
	"thunderline/profiles"
)

// Options configure an EDGAR run: `thunderline edgar ingest`, and
// `replay` of a filing directory.
type Options struct {
	// Profile gives the tenant, router, risk, journal and Postgres settings.
	// Default: the embedded minimal profile.
	Profile *config.Profile
	// Partitions is the number of flow partitions documents are parsed on,
	// by CIK. Default: the profile's partitions. Results do not depend on it.
	Partitions int
	// JournalDir, when set, journals the run there (raw documents,
	// EDGARDocs, windows, traces, lineage edges).
	JournalDir string
	// Router routes the filings. Default: the embedded filings router
	// (profiles/router/edgar.yaml); the profile's router section is for
	// market windows.
	Router *config.Router
	// Scorer, when set, is a model sentiment scorer (slow, maybe remote).
	// It runs on the flow partitions through text.Timed: a call slower than
	// ScorerTimeout (default 1s), failed, or refused by a full queue falls
	// back to the word list, and the window's provenance says so
	// (sentiment.fell_back). Default: the word list alone, deterministic.
	Scorer        text.Scorer
	ScorerTimeout time.Duration
	Logger        *slog.Logger
	Progress      func(Counts)
	ProgressEvery time.Duration
	// Inputs names the inputs in the summary.
	Inputs []string
	// Live, when set, is filled with the running path, for metrics and
	// /actors while it runs.
	Live *Live
	// OnWindow, OnTrace and OnReject see every window emission, trace and
	// rejected document, on the merge goroutine, valid during the call
	// (the link topics feature_windows:edgar and decisions, /actors).
	OnWindow func(w *filings.Window)
	OnTrace  func(t *decide.DecisionTrace, key string)
	OnReject func(partition int, rej Reject)
}

// run is one EDGAR run: the merge goroutine's state, and counters the
// partitions and Live read.
type run struct {
	o         Options
	prof      *config.Profile
	tenant    string
	log       *slog.Logger
	syms      *record.Symbols
	stage     *decide.Stage
	model     *decide.Model
	jour      *journal.Journal
	companies map[uint64]*filings.Company
	filings   map[filings.Key]bool
	sum       Summary
	docChain  [32]byte
	winChain  [32]byte
	trChain   [32]byte
	buf       []byte
	err       error
	windows   atomic.Uint64
	traces    atomic.Uint64
	docs      atomic.Uint64
	bytes     atomic.Uint64
	rejected  atomic.Uint64
	fallbacks atomic.Uint64
	start     time.Time
	ins       []chan job
}

// Run runs the EDGAR path over src until it ends or ctx is cancelled:
// documents are parsed on flow partitions by CIK, merged back in input
// order, assembled into windows per company, routed through the profile's
// router, and journaled.
func Run(ctx context.Context, src source.Source, o Options) (*Summary, error) {
	r, err := newRun(o)
	if err != nil {
		return nil, err
	}
	sh, err := r.openJournal(ctx)
	if r.jour != nil {
		defer r.jour.Close()
	}
	if err != nil {
		return nil, err
	}
	r.start = time.Now()
	stop := func() {}
	if r.o.Progress != nil {
		stop = report.Every(r.o.ProgressEvery, func() { r.o.Progress(r.counts()) })
	}
	readErr := r.flow(ctx, src)
	stop()
	r.finish()
	s := r.summarize(time.Since(r.start))
	r.end(sh)
	if r.err != nil {
		return s, r.err
	}
	return s, readErr
}

// newRun applies the defaults of o and builds the router's stage.
func newRun(o Options) (*run, error) {
	if o.Profile == nil {
		p, err := config.Parse(profiles.Minimal(), "minimal.yaml (embedded)")
		if err != nil {
			return nil, err
		}
		o.Profile = p
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Partitions <= 0 {
		o.Partitions = o.Profile.NumPartitions()
	}
	if o.Router == nil {
		rc, err := config.ParseRouter(profiles.EdgarRouter(), "router/edgar.yaml (embedded)")
		if err != nil {
			return nil, err
		}
		o.Router = rc
	}
	r := &run{o: o, prof: o.Profile, tenant: o.Profile.TenantName(), log: o.Logger, syms: record.NewSymbols(),
		companies: map[uint64]*filings.Company{}, filings: map[filings.Key]bool{}}
	r.sum = Summary{Inputs: o.Inputs, Partitions: o.Partitions, ByKind: map[string]uint64{}, Actions: map[string]uint64{}}
	if !o.Router.RouterEnabled() {
		return r, nil
	}
	m, err := routermodel.BuildWith(*o.Router, routermodel.Options{Files: o.Profile.ModelFiles()})
	if err != nil {
		return nil, err
	}
	r.model = m
	if r.stage, err = decide.NewStage(decide.StageConfig{Tenant: r.tenant, Partitions: 1,
		Risk: routermodel.RiskConfig(o.Profile.Risk), Emit: r.onTrace}, r.syms, m); err != nil {
		return nil, err
	}
	return r, nil
}

// openJournal opens the run's journal when it has one, journals the meta
// and router records, and starts shipping it when the profile enables
// Postgres (the shipper, or nil). The caller closes r.jour when set.
func (r *run) openJournal(ctx context.Context) (*ship.Shipper, error) {
	o := r.o
	if o.JournalDir == "" {
		return nil, nil
	}
	jo := o.Profile.JournalOptions(o.JournalDir)
	jo.Logger = o.Logger
	var err error
	if r.jour, err = journal.Open(jo); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	meta, err := runjournal.EncodeMeta(o.Profile)
	if err != nil {
		return nil, err
	}
	r.append(runjournal.RecMeta, meta)
	y, err := yaml.Marshal(o.Router)
	if err != nil {
		return nil, err
	}
	r.append(runjournal.RecRouter, y)
	if !o.Profile.Postgres.Enabled {
		return nil, nil
	}
	dsn := o.Profile.PostgresDSN(os.Getenv)
	if dsn == "" {
		return nil, fmt.Errorf("postgres: enabled, but neither THUNDERLINE_PG_DSN nor postgres.dsn is set")
	}
	return ship.Start(ctx, dsn, o.Profile, o.JournalDir, r.jour, o.Logger)
}

// counts are the run's live counters.
func (r *run) counts() Counts {
	return Counts{Docs: r.docs.Load(), Bytes: r.bytes.Load(), Windows: r.windows.Load(), Traces: r.traces.Load(),
		Rejected: r.rejected.Load(), Fallbacks: r.fallbacks.Load(), Elapsed: time.Since(r.start)}
}

// summarize fills the summary at the end of the input.
func (r *run) summarize(el time.Duration) *Summary {
	s := &r.sum
	c := r.counts()
	s.Elapsed = report.Seconds(el)
	s.Docs, s.Bytes, s.Rejected = c.Docs, c.Bytes, c.Rejected
	s.Windows, s.Traces, s.ScorerFallbacks = c.Windows, c.Traces, c.Fallbacks
	s.Filings = uint64(len(r.filings))
	if el > 0 {
		s.DocsPerSec = float64(s.Docs) / el.Seconds()
		s.MBPerSec = float64(s.Bytes) / 1e6 / el.Seconds()
	}
	s.DocDigest, s.WindowDigest, s.TraceDigest = hex.EncodeToString(r.docChain[:]), hex.EncodeToString(r.winChain[:]), hex.EncodeToString(r.trChain[:])
	return s
}

// end journals the summary as the end record and waits for the shipper,
// if any, to ship the journal.
func (r *run) end(sh *ship.Shipper) {
	s := &r.sum
	if r.jour != nil && r.err == nil {
		end, _ := json.Marshal(s)
		r.append(runjournal.RecEnd, end)
		if err := r.jour.Flush(); err != nil && r.err == nil {
			r.err = fmt.Errorf("journal flush: %w", err)
		}
		s.Journal = &Journal{Dir: r.o.JournalDir, Records: uint64(r.jour.Next())}
	}
	switch {
	case sh != nil && s.Journal != nil:
		ss := sh.Finish(s.Journal.Records, r.o.Profile.PostgresDrain(), nil)
		s.Postgres = &ss
	case sh != nil:
		sh.Finish(0, 0, nil)
	}
}

func (r *run) append(kind uint8, b []byte) {
	if r.jour == nil || r.err != nil {
		return
	}
	if _, err := r.jour.Append(kind, b); err != nil {
		r.err = fmt.Errorf("journal %s record: %w", runjournal.KindName(kind), err)
	}
}

// flow reads the source, parses documents on the partitions and merges
// their results back in input order.
func (r *run) flow(ctx context.Context, src source.Source) error {
	n := r.o.Partitions
	ins := make([]chan job, n)
	outs := make([]chan result, n)
	order := make(chan int, 1024)
	score := filings.WordList
	if r.o.Scorer != nil {
		timeout := r.o.ScorerTimeout
		if timeout <= 0 {
			timeout = text.DefaultTimedTimeout
		}
		timed := text.NewTimed(r.o.Scorer, timeout, n, 2*n)
		defer timed.Close()
		score = func(s string) edgarrec.Sentiment {
			c, fell, reason := timed.Score(ctx, s)
			out := filings.FromText(c)
			if fell {
				out.FellBack = true
				r.fallbacks.Add(1)
				r.log.Debug("edgar: sentiment scorer fell back to the word list", "reason", reason)
			}
			return out
		}
	}
	for i := range ins {
		ins[i], outs[i] = make(chan job, 2), make(chan result, 2)
	}
	r.ins = ins
	if r.o.Live != nil {
		r.o.Live.r.Store(r)
	}
	for i := range ins {
		go func(in <-chan job, out chan<- result) {
			defer close(out)
			for j := range in {
				out <- parseDoc(j, score)
			}
		}(ins[i], outs[i])
	}
	var readErr error
	go func() {
		defer func() {
			for _, c := range ins {
				close(c)
			}
			close(order)
		}()
		for inseq := uint64(1); ; inseq++ {
			d, err := src.Next(ctx)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
			p := int(partitionKey(&d, inseq) % uint64(n))
			order <- p
			ins[p] <- job{inseq: inseq, doc: d}
		}
	}()
	for p := range order {
		r.merge(p, <-outs[p])
	}
	for _, c := range outs {
		for range c {
		}
	}
	return readErr
}
