package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"thunderline/adapters/edgar/filings"
	"thunderline/adapters/edgar/source"
	"thunderline/adapters/edgar/text"
	"thunderline/engine/config"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/filing"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
	"thunderline/profiles"
)

// EdgarOptions configure an EDGAR run: `thunderline edgar ingest`, and
// `replay` of a filing directory.
type EdgarOptions struct {
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
	Progress      func(EdgarProgress)
	ProgressEvery time.Duration
	// Inputs names the inputs in the summary.
	Inputs []string
	// Live, when set, is filled with the running path, for metrics and
	// /actors while it runs.
	Live *EdgarLive
	// OnWindow, OnTrace and OnReject see every window emission, trace and
	// rejected document, on the merge goroutine, valid during the call
	// (the link topics feature_windows:edgar and decisions, /actors).
	OnWindow func(w *filings.Window)
	OnTrace  func(t *decide.DecisionTrace, key string)
	OnReject func(partition int, rej EdgarReject)
}

// EdgarLive is a running EDGAR path seen from outside: counters and the
// depth of each flow partition's queue.
type EdgarLive struct {
	r atomic.Pointer[edgarRun]
}

// EdgarCounts are the live counters of an EDGAR run.
type EdgarCounts struct {
	Docs, Bytes, Windows, Traces, Rejected, Fallbacks uint64
	Elapsed                                           time.Duration
}

// Counts returns the counters; ok is false before the run starts.
func (l *EdgarLive) Counts() (c EdgarCounts, ok bool) {
	r := l.r.Load()
	if r == nil {
		return c, false
	}
	return EdgarCounts{Docs: r.docs.Load(), Bytes: r.bytes.Load(), Windows: r.windows.Load(), Traces: r.traces.Load(),
		Rejected: r.rejected.Load(), Fallbacks: r.fallbacks.Load(), Elapsed: time.Since(r.start)}, true
}

// Queue returns the documents waiting for flow partition i and its
// capacity.
func (l *EdgarLive) Queue(i int) (n, capacity int) {
	r := l.r.Load()
	if r == nil || i >= len(r.ins) {
		return 0, 0
	}
	return len(r.ins[i]), cap(r.ins[i])
}

// EdgarProgress is a live view of an EDGAR run.
type EdgarProgress struct {
	Docs, Bytes, Windows, Traces, Rejected uint64
	Elapsed                                time.Duration
}

// EdgarReject is a document that could not be read.
type EdgarReject struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// EdgarSummary is the outcome of an EDGAR run.
type EdgarSummary struct {
	Inputs     []string          `json:"inputs,omitempty"`
	Partitions int               `json:"partitions"`
	Docs       uint64            `json:"docs"`
	Bytes      uint64            `json:"bytes"`
	ByKind     map[string]uint64 `json:"by_kind"`
	MetaDocs   uint64            `json:"meta_docs"` // indexes and submission lists: read, no window
	Rejected   uint64            `json:"rejected"`
	Rejects    []EdgarReject     `json:"rejects,omitempty"` // the first 100
	Issues     uint64            `json:"issues"`            // facts or sections a document could not give, listed in its EDGARDoc
	Filings    uint64            `json:"filings"`           // distinct (CIK, form, period end)
	Parts      uint64            `json:"parts"`
	Duplicates uint64            `json:"duplicate_parts"` // parts a filing already had
	Windows    uint64            `json:"windows"`         // window records emitted (first emissions and fills)
	Fills      uint64            `json:"fills"`           // open → filled
	OpenAtEnd  uint64            `json:"open_at_end"`     // routed as open at the end of the input
	// ScorerFallbacks counts texts the model scorer did not answer in time
	// (or failed): the word list scored them.
	ScorerFallbacks uint64            `json:"scorer_fallbacks"`
	Traces          uint64            `json:"traces"`
	Actions         map[string]uint64 `json:"actions,omitempty"`
	// Digests chain the hashes of docs, windows and traces in emission
	// order: equal digests, equal outputs.
	DocDigest    string         `json:"doc_digest"`
	WindowDigest string         `json:"window_digest"`
	TraceDigest  string         `json:"trace_digest"`
	Elapsed      Seconds        `json:"elapsed_s"`
	DocsPerSec   float64        `json:"docs_per_s"`
	MBPerSec     float64        `json:"mb_per_s"`
	Journal      *EdgarJournal  `json:"journal,omitempty"`
	Postgres     *ShipSummary   `json:"postgres,omitempty"`
	Verify       *EdgarVerified `json:"verify,omitempty"`
}

// EdgarJournal describes the journal an EDGAR run wrote.
type EdgarJournal struct {
	Dir     string `json:"dir"`
	Records uint64 `json:"records"`
}

// EdgarVerified is the result of replaying the same input twice.
type EdgarVerified struct {
	Partitions []int `json:"partitions"`
	Equal      bool  `json:"equal"`
}

// rawChunk is the largest slice of a raw document in one journal record.
const rawChunk = 8 << 20

type edgarJob struct {
	inseq uint64
	doc   source.Doc
}

type edgarResult struct {
	edgarJob
	parsed *filings.Parsed
	err    error
}

type edgarRun struct {
	o         EdgarOptions
	prof      *config.Profile
	tenant    string
	log       *slog.Logger
	syms      *record.Symbols
	stage     *decide.Stage
	model     *decide.Model
	jour      *journal.Journal
	companies map[uint64]*filings.Company
	filings   map[filings.Key]bool
	sum       EdgarSummary
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
	ins       []chan edgarJob
}

// RunEdgar runs the EDGAR path over src until it ends or ctx is cancelled:
// documents are parsed on flow partitions by CIK, merged back in input
// order, assembled into windows per company, routed through the profile's
// router, and journaled.
func RunEdgar(ctx context.Context, src source.Source, o EdgarOptions) (*EdgarSummary, error) {
	if o.Profile == nil {
		p, err := DefaultProfile()
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
	r := &edgarRun{o: o, prof: o.Profile, tenant: o.Profile.TenantName(), log: o.Logger, syms: record.NewSymbols(),
		companies: map[uint64]*filings.Company{}, filings: map[filings.Key]bool{}}
	r.sum = EdgarSummary{Inputs: o.Inputs, Partitions: o.Partitions, ByKind: map[string]uint64{}, Actions: map[string]uint64{}}
	if o.Router == nil {
		rc, err := config.ParseRouter(profiles.EdgarRouter(), "router/edgar.yaml (embedded)")
		if err != nil {
			return nil, err
		}
		o.Router = rc
	}
	if o.Router.RouterEnabled() {
		m, err := BuildModel(*o.Router)
		if err != nil {
			return nil, err
		}
		r.model = m
		if r.stage, err = decide.NewStage(decide.StageConfig{Tenant: r.tenant, Partitions: 1,
			Risk: RiskConfig(o.Profile.Risk), Emit: r.onTrace}, r.syms, m); err != nil {
			return nil, err
		}
	}
	var sh *shipper
	if o.JournalDir != "" {
		jo := o.Profile.JournalOptions(o.JournalDir)
		jo.Logger = o.Logger
		var err error
		if r.jour, err = journal.Open(jo); err != nil {
			return nil, fmt.Errorf("open journal: %w", err)
		}
		defer r.jour.Close()
		meta, err := encodeMeta(o.Profile)
		if err != nil {
			return nil, err
		}
		r.append(RecMeta, meta)
		if o.Router != nil {
			y, err := routerYAMLOf(o.Router)
			if err != nil {
				return nil, err
			}
			r.append(RecRouter, y)
		}
		if o.Profile.Postgres.Enabled {
			dsn := o.Profile.PostgresDSN(os.Getenv)
			if dsn == "" {
				return nil, fmt.Errorf("postgres: enabled, but neither THUNDERLINE_PG_DSN nor postgres.dsn is set")
			}
			if sh, err = startShipping(ctx, dsn, o.Profile, o.JournalDir, r.jour, o.Logger); err != nil {
				return nil, err
			}
		}
	}
	start := time.Now()
	r.start = start
	stopProgress := r.progress(start)
	readErr := r.flow(ctx, src)
	stopProgress()
	r.finish()
	el := time.Since(start)
	s := &r.sum
	s.Elapsed = Seconds(el)
	s.Docs, s.Bytes, s.Rejected = r.docs.Load(), r.bytes.Load(), r.rejected.Load()
	s.Windows, s.Traces = r.windows.Load(), r.traces.Load()
	s.ScorerFallbacks = r.fallbacks.Load()
	s.Filings = uint64(len(r.filings))
	if el > 0 {
		s.DocsPerSec = float64(s.Docs) / el.Seconds()
		s.MBPerSec = float64(s.Bytes) / 1e6 / el.Seconds()
	}
	s.DocDigest, s.WindowDigest, s.TraceDigest = hex.EncodeToString(r.docChain[:]), hex.EncodeToString(r.winChain[:]), hex.EncodeToString(r.trChain[:])
	if r.jour != nil && r.err == nil {
		end, _ := json.Marshal(s)
		r.append(RecEnd, end)
		if err := r.jour.Flush(); err != nil && r.err == nil {
			r.err = fmt.Errorf("journal flush: %w", err)
		}
		s.Journal = &EdgarJournal{Dir: o.JournalDir, Records: uint64(r.jour.Next())}
	}
	if sh != nil && s.Journal != nil {
		ss := sh.finish(s.Journal.Records, 30*time.Second)
		s.Postgres = &ss
	} else if sh != nil {
		sh.finish(0, 0)
	}
	if r.err != nil {
		return s, r.err
	}
	return s, readErr
}

func (r *edgarRun) append(kind uint8, b []byte) {
	if r.jour == nil || r.err != nil {
		return
	}
	if _, err := r.jour.Append(kind, b); err != nil {
		r.err = fmt.Errorf("journal %s record: %w", KindName(kind), err)
	}
}

func (r *edgarRun) progress(start time.Time) (stop func()) {
	if r.o.Progress == nil {
		return func() {}
	}
	every := r.o.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.o.Progress(EdgarProgress{Docs: r.docs.Load(), Bytes: r.bytes.Load(), Windows: r.windows.Load(),
					Traces: r.traces.Load(), Rejected: r.rejected.Load(), Elapsed: time.Since(start)})
			}
		}
	}()
	return func() { close(done); <-finished }
}

// flow reads the source, parses documents on the partitions and merges
// their results back in input order.
func (r *edgarRun) flow(ctx context.Context, src source.Source) error {
	n := r.o.Partitions
	ins := make([]chan edgarJob, n)
	outs := make([]chan edgarResult, n)
	order := make(chan int, 1024)
	score := filings.WordList
	if r.o.Scorer != nil {
		timeout := r.o.ScorerTimeout
		if timeout <= 0 {
			timeout = text.DefaultTimedTimeout
		}
		timed := text.NewTimed(r.o.Scorer, timeout, n, 2*n)
		defer timed.Close()
		score = func(s string) filing.Sentiment {
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
		ins[i], outs[i] = make(chan edgarJob, 2), make(chan edgarResult, 2)
	}
	r.ins = ins
	if r.o.Live != nil {
		r.o.Live.r.Store(r)
	}
	for i := range ins {
		go func(in <-chan edgarJob, out chan<- edgarResult) {
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
			ins[p] <- edgarJob{inseq: inseq, doc: d}
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

// partitionKey is the CIK a document belongs to when the source or its
// first bytes say so (so one company's documents are parsed on one
// partition), else its input sequence. Results never depend on it: state
// is kept in input order after the merge.
func partitionKey(d *source.Doc, inseq uint64) uint64 {
	if d.CIK != 0 {
		return d.CIK
	}
	head := d.Body[:min(len(d.Body), 64<<10)]
	for _, m := range [...]string{"CENTRAL INDEX KEY:", "EntityCentralIndexKey", `"cik":`} {
		if i := bytes.Index(head, []byte(m)); i >= 0 {
			rest := head[i+len(m):]
			j := 0
			for j < len(rest) && j < 64 && (rest[j] < '0' || rest[j] > '9') {
				j++
			}
			k := j
			for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
				k++
			}
			if v, err := strconv.ParseUint(string(rest[j:k]), 10, 64); err == nil && v != 0 {
				return v
			}
		}
	}
	return inseq
}

// parseDoc parses one document; a panic in a parser is a bug, but a
// document must never take the engine down: it becomes a reject naming it.
func parseDoc(j edgarJob, score func(string) filing.Sentiment) (res edgarResult) {
	res.edgarJob = j
	defer func() {
		if v := recover(); v != nil {
			res.parsed, res.err = nil, fmt.Errorf("parser panic (a bug; the document is rejected): %v\n%s", v, debug.Stack())
		}
	}()
	res.parsed, res.err = filings.ParseWith(j.doc.Name, filings.Kind(j.doc.Kind.String()), j.doc.Body, score)
	return res
}

func chain(c *[32]byte, h []byte) {
	s := sha256.New()
	s.Write(c[:])
	s.Write(h)
	s.Sum(c[:0])
}

// merge takes one document's result, in input order.
func (r *edgarRun) merge(partIdx int, res edgarResult) {
	d := &res.doc
	r.docs.Add(1)
	r.bytes.Add(uint64(len(d.Body)))
	r.sum.ByKind[d.Kind.String()]++
	r.journalRaw(res.inseq, d)
	if res.err != nil {
		r.rejected.Add(1)
		rej := EdgarReject{Name: d.Name, Kind: d.Kind.String(), Reason: res.err.Error()}
		if len(r.sum.Rejects) < 100 {
			r.sum.Rejects = append(r.sum.Rejects, rej)
		}
		r.log.Warn("edgar: document rejected", "name", d.Name, "kind", rej.Kind, "err", res.err)
		r.buf = appendEdgarReject(r.buf[:0], res.inseq, &rej)
		r.append(RecEdgarReject, r.buf)
		if r.o.OnReject != nil {
			r.o.OnReject(partIdx, rej)
		}
		return
	}
	p := res.parsed
	if p.Meta {
		r.sum.MetaDocs++
		return
	}
	r.sum.Issues += uint64(len(p.Doc.Issues))
	enc := r.docRecord(&p.Doc)
	h := sha256.Sum256(enc)
	chain(&r.docChain, h[:])
	r.append(RecEdgarDoc, enc)
	docID := filing.DocID(h)
	for i := range p.Parts {
		part := &p.Parts[i]
		r.sum.Parts++
		r.filings[part.Key] = true
		c := r.companies[part.Key.CIK]
		if c == nil {
			c = filings.NewCompany(part.Key.CIK, filings.Options{Tenant: r.tenant})
			r.companies[part.Key.CIK] = c
		}
		w := c.Add(part, d.Name, res.inseq)
		if w == nil {
			r.sum.Duplicates++
			continue
		}
		r.emit(w, docID)
	}
	if r.stage != nil {
		r.stage.Drain()
	}
}

// docRecord encodes an EDGARDoc for the journal; a document too large for
// one record keeps its facts and section texts up to the limit, and says
// so in its issues (the raw bytes are journaled whole).
func (r *edgarRun) docRecord(d *filing.Doc) []byte {
	enc := filing.AppendDoc(r.buf[:0], d)
	const limit = journal.MaxPayload - 64<<10
	for len(enc) > limit {
		switch {
		case len(d.Facts) > 0:
			n := len(d.Facts) / 2
			d.Issues = append(d.Issues, fmt.Sprintf("journal record: facts cut from %d to %d (record limit %d bytes; raw document journaled whole)", len(d.Facts), n, limit))
			d.Facts = d.Facts[:n]
		case len(d.Sections) > 0:
			d.Issues = append(d.Issues, fmt.Sprintf("journal record: %d section texts dropped (record limit; raw document journaled whole)", len(d.Sections)))
			for i := range d.Sections {
				d.Sections[i].Text = ""
			}
		default:
			return enc // cannot shrink: Append reports it
		}
		enc = filing.AppendDoc(r.buf[:0], d)
	}
	r.buf = enc
	return enc
}

func (r *edgarRun) emit(w *filings.Window, docID [16]byte) {
	fw := &w.W
	id, err := r.syms.Intern(w.Key)
	if err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("edgar: key %s: %w", w.Key, err)
		}
		return
	}
	fw.Symbol = id
	r.windows.Add(1)
	chain(&r.winChain, fw.Hash[:])
	if w.Fill {
		r.sum.Fills++
	}
	r.buf = window.AppendWindowRecordExt(r.buf[:0], fw, r.tenant, w.Key, w.Ext)
	r.append(RecWindow, r.buf)
	e := decide.Edge{From: docID, To: fw.ID, Type: decide.EdgeDocWindow, At: fw.End}
	if w.Fill {
		e.Type = decide.EdgeDocFill
	}
	r.buf = decide.AppendEdge(r.buf[:0], &e)
	r.append(RecEdge, r.buf)
	if r.o.OnWindow != nil {
		r.o.OnWindow(w)
	}
	if r.stage != nil && w.Ready() {
		r.stage.OnWindow(fw)
	}
}

// finish routes the windows still open at the end of the input, as they
// are, in the order they were first emitted.
func (r *edgarRun) finish() {
	var open []filings.Window
	ciks := make([]uint64, 0, len(r.companies))
	for cik := range r.companies {
		ciks = append(ciks, cik)
	}
	slices.Sort(ciks)
	for _, cik := range ciks {
		open = append(open, r.companies[cik].Open()...)
	}
	slices.SortStableFunc(open, func(a, b filings.Window) int { return cmpU64(a.W.FirstInSeq, b.W.FirstInSeq) })
	r.sum.OpenAtEnd = uint64(len(open))
	if r.stage == nil {
		return
	}
	for i := range open {
		fw := &open[i].W
		if id, err := r.syms.Intern(open[i].Key); err == nil {
			fw.Symbol = id
			r.stage.OnWindow(fw)
		}
	}
	r.stage.Drain()
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (r *edgarRun) onTrace(t *decide.DecisionTrace) {
	r.traces.Add(1)
	chain(&r.trChain, t.Hash[:])
	r.sum.Actions[decide.ActionName(t.Action)]++
	if r.o.OnTrace != nil {
		r.o.OnTrace(t, r.syms.Name(t.Symbol))
	}
	if r.jour == nil {
		return
	}
	r.buf = decide.AppendTraceRecord(r.buf[:0], t, r.tenant, r.syms.Name(t.Symbol))
	r.append(RecTrace, r.buf)
	e := decide.Edge{From: t.WindowID, To: t.ID, Type: decide.EdgeWindowTrace, At: t.End}
	r.buf = decide.AppendEdge(r.buf[:0], &e)
	r.append(RecEdge, r.buf)
	for l := 0; l < int(t.Layers) && l < len(r.model.Layers); l++ {
		ids := r.model.Layers[l].IDs
		for k := 0; k < int(t.NSel[l]); k++ {
			if a := &t.Actions[l][k]; int(a.Expert) < len(ids) {
				e = decide.Edge{From: t.ID, To: ids[a.Expert], Type: decide.EdgeTraceExpert, At: t.End}
				r.buf = decide.AppendEdge(r.buf[:0], &e)
				r.append(RecEdge, r.buf)
			}
		}
	}
}

// journalRaw journals a document's bytes as received, in chunks.
func (r *edgarRun) journalRaw(inseq uint64, d *source.Doc) {
	if r.jour == nil {
		return
	}
	chunks := max(1, (len(d.Body)+rawChunk-1)/rawChunk)
	for c := 0; c < chunks; c++ {
		part := d.Body[c*rawChunk : min(len(d.Body), (c+1)*rawChunk)]
		r.buf = appendEdgarRaw(r.buf[:0], inseq, uint32(c), uint32(chunks), d, part)
		r.append(RecEdgarRaw, r.buf)
	}
}

func appendEdgarRaw(dst []byte, inseq uint64, chunk, chunks uint32, d *source.Doc, part []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, inseq)
	dst = binary.LittleEndian.AppendUint32(dst, chunk)
	dst = binary.LittleEndian.AppendUint32(dst, chunks)
	dst = append(dst, uint8(d.Kind))
	name := d.Name
	if len(name) > 1<<16-1 {
		name = name[:1<<16-1]
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(name)))
	dst = append(dst, name...)
	return append(dst, part...)
}

// edgarRaw is one decoded RecEdgarRaw record.
type edgarRaw struct {
	inseq         uint64
	chunk, chunks uint32
	kind          source.Kind
	name          string
	data          []byte
}

func decodeEdgarRaw(b []byte) (edgarRaw, error) {
	if len(b) < 19 {
		return edgarRaw{}, fmt.Errorf("edgar_raw record of %d bytes: want at least 19", len(b))
	}
	r := edgarRaw{inseq: binary.LittleEndian.Uint64(b), chunk: binary.LittleEndian.Uint32(b[8:]),
		chunks: binary.LittleEndian.Uint32(b[12:]), kind: source.Kind(b[16])}
	n := int(binary.LittleEndian.Uint16(b[17:]))
	if len(b) < 19+n {
		return edgarRaw{}, fmt.Errorf("edgar_raw record: name of %d bytes, %d left", n, len(b)-19)
	}
	if r.chunks == 0 || r.chunk >= r.chunks {
		return edgarRaw{}, fmt.Errorf("edgar_raw record: chunk %d of %d", r.chunk, r.chunks)
	}
	r.name, r.data = string(b[19:19+n]), b[19+n:]
	return r, nil
}

func appendEdgarReject(dst []byte, inseq uint64, rej *EdgarReject) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, inseq)
	for _, s := range [...]string{rej.Name, rej.Kind, rej.Reason} {
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// Text prints the summary for people.
func (s *EdgarSummary) Text(w io.Writer) {
	fmt.Fprintf(w, "edgar: %d documents (%.1f MB) in %.2fs on %d partitions: %.1f docs/s, %.1f MB/s\n", s.Docs, float64(s.Bytes)/1e6,
		time.Duration(s.Elapsed).Seconds(), s.Partitions, s.DocsPerSec, s.MBPerSec)
	kinds := make([]string, 0, len(s.ByKind))
	for k := range s.ByKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	fmt.Fprint(w, "  by kind:")
	for _, k := range kinds {
		fmt.Fprintf(w, " %s %d", k, s.ByKind[k])
	}
	fmt.Fprintf(w, "\n  meta documents %d, rejected %d, issues %d\n", s.MetaDocs, s.Rejected, s.Issues)
	for _, r := range s.Rejects {
		fmt.Fprintf(w, "    rejected %s (%s): %s\n", r.Name, r.Kind, r.Reason)
	}
	fmt.Fprintf(w, "  filings %d (parts %d, duplicate parts %d)\n", s.Filings, s.Parts, s.Duplicates)
	fmt.Fprintf(w, "  windows %d (fills %d, open at the end %d), traces %d", s.Windows, s.Fills, s.OpenAtEnd, s.Traces)
	if len(s.Actions) > 0 {
		acts := make([]string, 0, len(s.Actions))
		for a := range s.Actions {
			acts = append(acts, a)
		}
		slices.Sort(acts)
		fmt.Fprint(w, ":")
		for _, a := range acts {
			fmt.Fprintf(w, " %s %d", a, s.Actions[a])
		}
	}
	fmt.Fprintf(w, "\n  doc_digest    %s\n  window_digest %s\n  trace_digest  %s\n", s.DocDigest, s.WindowDigest, s.TraceDigest)
	if s.Journal != nil {
		fmt.Fprintf(w, "  journal %s (%d records)\n", s.Journal.Dir, s.Journal.Records)
	}
	if s.Postgres != nil {
		fmt.Fprintf(w, "  postgres: %d rows in %d batches, caught up %v\n", s.Postgres.Rows, s.Postgres.Batches, s.Postgres.CaughtUp)
	}
	if s.Verify != nil {
		fmt.Fprintf(w, "  verify: partitions %v, digests equal: %v\n", s.Verify.Partitions, s.Verify.Equal)
	}
}
