package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

// ShipperOptions configure a Shipper.
type ShipperOptions struct {
	// Dir is the run's journal directory. Required.
	Dir string
	// Tenant owns every row shipped from the journal (a run is one
	// tenant's); a window or trace naming another tenant goes to rejects.
	// Required.
	Tenant string
	// JournalID keys the journal in shipper_offsets and every shipped row.
	// Default: the absolute path of Dir.
	JournalID string
	// BatchSize is the most records per transaction. Default 4096.
	BatchSize int
	// MaxDelay is the longest a read record waits for its batch to be
	// written. Default 200ms.
	MaxDelay time.Duration
	// Poll is how long the shipper waits at the end of the journal before
	// looking again. Default 20ms.
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait after a failed batch; it
	// doubles from MinBackoff up to MaxBackoff and resets after a batch
	// lands. Defaults 50ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// Acked, when set, returns one past the last acknowledged record of the
	// journal (journal.Journal.Acked of the writer): the shipper ships
	// nothing beyond it.
	Acked func() journal.Offset
	// Logger gets one line per failed batch (bounded by the backoff).
	// Default: discard.
	Logger *slog.Logger
}

// WithDefaults fills zero fields with their defaults.
func (o ShipperOptions) WithDefaults() ShipperOptions {
	if o.JournalID == "" && o.Dir != "" {
		if abs, err := filepath.Abs(o.Dir); err == nil {
			o.JournalID = abs
		} else {
			o.JournalID = o.Dir
		}
	}
	if o.BatchSize == 0 {
		o.BatchSize = 4096
	}
	if o.MaxDelay == 0 {
		o.MaxDelay = 200 * time.Millisecond
	}
	if o.Poll == 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate names the first bad field.
func (o ShipperOptions) Validate() error {
	switch {
	case o.Dir == "":
		return errors.New("shipper: dir: required")
	case o.Tenant == "":
		return errors.New("shipper: tenant: required")
	case o.BatchSize < 1 || o.BatchSize > 1<<20:
		return fmt.Errorf("shipper: batch_size %d: must be between 1 and 1048576", o.BatchSize)
	case o.MaxDelay <= 0:
		return fmt.Errorf("shipper: max_delay %v: must be positive", o.MaxDelay)
	case o.Poll <= 0:
		return fmt.Errorf("shipper: poll %v: must be positive", o.Poll)
	case o.MinBackoff <= 0 || o.MaxBackoff < o.MinBackoff:
		return fmt.Errorf("shipper: backoff %v..%v: want 0 < min <= max", o.MinBackoff, o.MaxBackoff)
	}
	return nil
}

// ShipperStats is a snapshot of a Shipper's metrics.
type ShipperStats struct {
	NextOffset uint64  // committed: every record below it is in Postgres
	Lag        uint64  // records read (or acknowledged, with Acked) and not yet committed
	Batches    uint64  // transactions committed
	Rows       uint64  // rows inserted by them (replayed duplicates not counted)
	Records    uint64  // journal records covered by them
	Rejects    uint64  // records the shipper could not decode (rows in rejects, source 'shipper')
	Errors     uint64  // failed batches and reconnects
	RowsPerSec float64 // Rows over the time Run has run
	// LagSeconds: 0 when caught up, else the time since the shipper last was
	// (an upper bound on the age of the oldest record not yet in Postgres).
	LagSeconds float64
	// BatchSizes counts committed batches by records per batch: entry i
	// counts batches of at most BatchSizeBounds[i] records (the last, more).
	BatchSizes [len(BatchSizeBounds) + 1]uint64
	LastError  string // the latest failure, "" if none
}

// BatchSizeBounds are the upper bounds of ShipperStats.BatchSizes' buckets.
var BatchSizeBounds = [...]uint64{1, 10, 100, 1000, 10000}

// Shipper copies a run's journal into Postgres: exactly once, in order, in
// batches, resuming from shipper_offsets. It only reads the journal, so it
// never slows the engine down; when Postgres is away it retries with backoff
// and catches up. One Shipper per journal at a time (a second one would
// only lose the offset race: see doc.go).
type Shipper struct {
	pool *pgxpool.Pool
	opts ShipperOptions

	next     atomic.Uint64
	readEnd  atomic.Uint64
	batches  atomic.Uint64
	rows     atomic.Uint64
	records  atomic.Uint64
	rejects  atomic.Uint64
	errs     atomic.Uint64
	runNanos atomic.Int64 // Run's start, unix ns
	caughtUp atomic.Int64 // last time nothing was left to ship, unix ns
	sizes    [len(BatchSizeBounds) + 1]atomic.Uint64
	lastErr  atomic.Pointer[string]

	symbols map[uint32]string // Run's goroutine only

	// testHookBeforeOffset, when set (tests only), runs in flush inside the
	// transaction, after the rows are copied into staging and before the
	// inserts and the offset update go out.
	testHookBeforeOffset func()
}

// NewShipper returns a Shipper writing through pool (connected as the
// engine's role, which must not bypass RLS; Migrate must have run).
func NewShipper(pool *pgxpool.Pool, opts ShipperOptions) (*Shipper, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Shipper{pool: pool, opts: opts}, nil
}

// Stats returns the shipper's metrics; safe from any goroutine.
func (s *Shipper) Stats() ShipperStats {
	st := ShipperStats{
		NextOffset: s.next.Load(), Batches: s.batches.Load(), Rows: s.rows.Load(), Records: s.records.Load(),
		Rejects: s.rejects.Load(), Errors: s.errs.Load(),
	}
	end := s.readEnd.Load()
	if s.opts.Acked != nil {
		end = max(end, uint64(s.opts.Acked()))
	}
	if end > st.NextOffset {
		st.Lag = end - st.NextOffset
		if at := s.caughtUp.Load(); at != 0 {
			st.LagSeconds = time.Since(time.Unix(0, at)).Seconds()
		}
	} else {
		s.caughtUp.Store(time.Now().UnixNano())
	}
	for i := range s.sizes {
		st.BatchSizes[i] = s.sizes[i].Load()
	}
	if start := s.runNanos.Load(); start != 0 {
		if el := time.Since(time.Unix(0, start)).Seconds(); el > 0 {
			st.RowsPerSec = float64(st.Rows) / el
		}
	}
	if e := s.lastErr.Load(); e != nil {
		st.LastError = *e
	}
	return st
}

// Run ships until ctx is done, then returns nil. A batch in flight when ctx
// ends is rolled back and shipped by the next Run. Every failure (Postgres
// away, the journal not there yet, a corrupt journal block) is logged,
// counted in Stats and retried with backoff, from the stored offset.
func (s *Shipper) Run(ctx context.Context) error {
	s.runNanos.CompareAndSwap(0, time.Now().UnixNano())
	s.caughtUp.CompareAndSwap(0, time.Now().UnixNano())
	backoff := s.opts.MinBackoff
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		err := s.session(ctx, timer, &backoff)
		if ctx.Err() != nil {
			return nil
		}
		s.errs.Add(1)
		msg := err.Error()
		s.lastErr.Store(&msg)
		s.opts.Logger.Warn("shipper: batch failed; retrying", "journal", s.opts.JournalID,
			"offset", s.next.Load(), "backoff", backoff, "err", err)
		timer.Reset(backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		backoff = min(2*backoff, s.opts.MaxBackoff)
	}
}

// errOffsetMoved: shipper_offsets is not where this shipper left it (another
// shipper of the same journal committed): start over from the stored one.
var errOffsetMoved = errors.New("shipper: stored offset moved under this shipper")

// session reads the stored offset, opens the journal there and ships until
// an error or ctx ends.
func (s *Shipper) session(ctx context.Context, timer *time.Timer, backoff *time.Duration) error {
	off, err := s.load(ctx)
	if err != nil {
		return err
	}
	s.next.Store(off)
	s.readEnd.Store(max(s.readEnd.Load(), off))
	r, err := journal.NewReader(s.opts.Dir, journal.Offset(off))
	if err != nil {
		return fmt.Errorf("open journal %s at %d: %w", s.opts.Dir, off, err)
	}
	defer r.Close()
	b := newBatch(s, off)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.opts.Acked != nil {
			r.SetLimit(s.opts.Acked())
		}
		kind, o, payload, err := r.Next()
		if errors.Is(err, io.EOF) {
			if b.n == 0 {
				s.caughtUp.Store(time.Now().UnixNano())
			}
			wait := s.opts.Poll
			if b.n > 0 {
				left := s.opts.MaxDelay - time.Since(b.firstAt)
				if left <= 0 {
					if err := s.flush(ctx, b); err != nil {
						return err
					}
					*backoff = s.opts.MinBackoff
					b = newBatch(s, b.end)
					continue
				}
				wait = min(wait, left)
			}
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read journal %s: %w", s.opts.Dir, err)
		}
		if uint64(o) != b.end {
			return fmt.Errorf("read journal %s: record %d, want %d", s.opts.Dir, o, b.end)
		}
		b.add(kind, uint64(o), payload)
		s.readEnd.Store(max(s.readEnd.Load(), uint64(o)+1))
		if b.n >= s.opts.BatchSize || time.Since(b.firstAt) >= s.opts.MaxDelay {
			if err := s.flush(ctx, b); err != nil {
				return err
			}
			*backoff = s.opts.MinBackoff
			b = newBatch(s, b.end)
		}
	}
}

// load makes sure the journal has a row in shipper_offsets and returns its
// next offset, with the symbols shipped so far.
func (s *Shipper) load(ctx context.Context) (uint64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if err := WithTenant(ctx, tx, s.opts.Tenant); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO shipper_offsets (journal_id, next_offset) VALUES ($1, 0) ON CONFLICT DO NOTHING",
		s.opts.JournalID); err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	var off int64
	if err := tx.QueryRow(ctx, "SELECT next_offset FROM shipper_offsets WHERE journal_id = $1", s.opts.JournalID).Scan(&off); err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT symbol_id, name FROM journal_symbols WHERE journal_id = $1", s.opts.JournalID)
	if err != nil {
		return 0, fmt.Errorf("load symbols: %w", err)
	}
	syms := map[uint32]string{}
	var id int32
	var name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error { syms[uint32(id)] = name; return nil })
	if err != nil {
		return 0, fmt.Errorf("load symbols: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("load offset: %w", err)
	}
	s.symbols = syms
	return uint64(off), nil
}

// table is a destination of shipped rows and its staging twin.
type table struct {
	name, stage string
	cols        []string
}

const (
	tTicks = iota
	tWindows
	tLabels
	tTraces
	tEdges
	tRejects
	tOutbox
	tSymbols
	tDocs
	numTables
)

var tables = [numTables]table{
	tTicks:   {"raw_market_ticks", "stg_ticks", []string{"tenant_id", "journal_id", "journal_offset", "symbol", "symbol_id", "ts", "ts_ns", "in_seq", "payload"}},
	tWindows: {"feature_windows", "stg_windows", []string{"id", "tenant_id", "kind", "key", "window_start", "window_end", "start_ns", "end_ns", "status", "features", "label_spec", "feature_schema_version", "provenance", "hash", "journal_id", "journal_offset"}},
	tLabels:  {"window_labels", "stg_labels", []string{"tenant_id", "window_id", "key", "window_end", "label_spec", "valid", "mid_end", "mid_target", "value", "hash", "journal_id", "journal_offset"}},
	tTraces:  {"decision_traces", "stg_traces", []string{"id", "tenant_id", "feature_window_id", "window_hash", "key", "window_end", "router_version", "gate_scores", "selected_experts", "actions", "blended_action", "pnl_snapshot", "risk_flags", "behavior_embedding", "hash", "latency_ns", "journal_id", "journal_offset"}},
	tEdges:   {"lineage_edges", "stg_edges", []string{"tenant_id", "from_id", "to_id", "edge_type", "at", "journal_id", "journal_offset"}},
	tRejects: {"rejects", "stg_rejects", []string{"tenant_id", "journal_id", "journal_offset", "source", "kind", "reason", "detail", "raw"}},
	tOutbox:  {"outbox", "stg_outbox", []string{"tenant_id", "topic", "journal_id", "journal_offset", "payload"}},
	tSymbols: {"journal_symbols", "stg_symbols", []string{"tenant_id", "journal_id", "symbol_id", "name"}},
	tDocs: {"raw_edgar_docs", "stg_docs", []string{"id", "tenant_id", "cik", "form", "filing_time", "period_end", "sections", "xbrl", "hash",
		"name", "source_kind", "accession", "company", "raw_sha256", "raw_bytes", "issues", "journal_id", "journal_offset"}},
}

// stagingDDL creates the session's staging tables if this connection has
// none yet. ON COMMIT DELETE ROWS empties them at every commit; a rollback
// takes their rows with it.
var stagingDDL = func() string {
	var sb strings.Builder
	sb.WriteString("SET LOCAL client_min_messages = warning;\n")
	for _, t := range tables {
		fmt.Fprintf(&sb, "CREATE TEMP TABLE IF NOT EXISTS %s ON COMMIT DELETE ROWS AS SELECT %s FROM %s WITH NO DATA;\n",
			t.stage, strings.Join(t.cols, ", "), t.name)
	}
	return sb.String()
}()

var insertSQL = func() (out [numTables]string) {
	for i, t := range tables {
		cols := strings.Join(t.cols, ", ")
		out[i] = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT DO NOTHING", t.name, cols, cols, t.stage)
	}
	return out
}()

// fillLabels copies label fills into their windows.
const fillLabels = `UPDATE feature_windows w SET
	labels = jsonb_build_object('valid', l.valid, 'value', l.value, 'mid_end', l.mid_end, 'mid_target', l.mid_target),
	status = CASE WHEN l.valid THEN 'filled' ELSE w.status END
	FROM stg_labels l WHERE w.tenant_id = l.tenant_id AND w.id = l.window_id`

// fillEdgar moves EDGAR windows from open to filled when their missing
// part lands (Partial→Fill): the filled record replaces the open row's
// features, provenance and hash. Insert-if-absent runs first, so a batch
// holding both records ends with the filled one either way.
const fillEdgar = `UPDATE feature_windows w SET status = s.status, features = s.features, provenance = s.provenance,
	hash = s.hash, journal_id = s.journal_id, journal_offset = s.journal_offset
	FROM stg_windows s WHERE s.kind = 'edgar' AND s.status = 'filled' AND w.status = 'open'
	AND w.tenant_id = s.tenant_id AND w.id = s.id AND w.window_start = s.window_start`

// batch is the rows decoded from journal records [start, end).
type batch struct {
	s          *Shipper
	start, end uint64
	n          int
	firstAt    time.Time
	rows       [numTables][][]any
	rejected   int
}

func newBatch(s *Shipper, start uint64) *batch { return &batch{s: s, start: start, end: start} }

// add decodes one record into rows. payload is only valid during the call:
// every row holds copies.
func (b *batch) add(kind uint8, off uint64, payload []byte) {
	if b.n == 0 {
		b.firstAt = time.Now()
	}
	b.n++
	b.end = off + 1
	if err := b.decode(kind, off, payload); err != nil {
		b.rejected++
		b.rows[tRejects] = append(b.rows[tRejects], []any{b.s.opts.Tenant, b.s.opts.JournalID, int64(off), "shipper",
			int32(kind), err.Error(), nil, append([]byte{}, payload...)})
	}
}

func (b *batch) decode(kind uint8, off uint64, p []byte) error {
	s := b.s
	tenant, jid := s.opts.Tenant, s.opts.JournalID
	switch kind {
	case recSymbol:
		id, name, err := decodeSymbol(p)
		if err != nil {
			return err
		}
		if err := checkText("symbol name", name); err != nil {
			return err
		}
		s.symbols[id] = name
		b.rows[tSymbols] = append(b.rows[tSymbols], []any{tenant, jid, int32(id), name})
	case recTick:
		var t record.MarketTick
		if err := record.DecodeTick(p, &t); err != nil {
			return err
		}
		name, ok := s.symbols[t.Symbol]
		if !ok {
			return fmt.Errorf("tick of symbol id %d before its symbol record", t.Symbol)
		}
		b.rows[tTicks] = append(b.rows[tTicks], []any{tenant, jid, int64(off), name, int32(t.Symbol),
			nsTime(t.TsEvent), t.TsEvent, int64(t.InSeq), tickJSON(&t, nil)})
	case recReject:
		var r record.Reject
		if err := record.DecodeReject(p, &r); err != nil {
			return err
		}
		b.rows[tRejects] = append(b.rows[tRejects], []any{tenant, jid, int64(off), "engine", int32(kind),
			r.Reason.String(), tickJSON(&r.Tick, &r), nil})
	case recWindow:
		d, err := window.DecodeWindowRecord(p)
		if err != nil {
			return err
		}
		if err := checkText("window key", d.Key); err != nil {
			return err
		}
		if d.Tenant != tenant {
			return fmt.Errorf("window of tenant %q in a journal of tenant %q", d.Tenant, tenant)
		}
		row, err := windowRow(&d, jid, off)
		if err != nil {
			return err
		}
		b.rows[tWindows] = append(b.rows[tWindows], row)
	case recLabel:
		d, err := window.DecodeLabel(p)
		if err != nil {
			return err
		}
		if err := checkText("label key", d.Key); err != nil {
			return err
		}
		b.rows[tLabels] = append(b.rows[tLabels], labelRow(tenant, &d, jid, off))
	case recTrace:
		d, err := decide.DecodeTraceRecord(p)
		if err != nil {
			return err
		}
		if err := checkText("trace key", d.Key); err != nil {
			return err
		}
		if d.Tenant != tenant {
			return fmt.Errorf("trace of tenant %q in a journal of tenant %q", d.Tenant, tenant)
		}
		b.rows[tTraces] = append(b.rows[tTraces], traceRow(&d, jid, off))
	case recEdge:
		e, err := decide.DecodeEdge(p)
		if err != nil {
			return err
		}
		b.rows[tEdges] = append(b.rows[tEdges], []any{tenant, e.From, e.To, edgeType(e.Type), nsTime(e.At), jid, int64(off)})
	case recEdgarDoc:
		row, err := edgarDocRow(tenant, p, jid, off)
		if err != nil {
			return err
		}
		b.rows[tDocs] = append(b.rows[tDocs], row)
	case recEdgarReject:
		row, err := edgarRejectRow(tenant, p, jid, off)
		if err != nil {
			return err
		}
		b.rows[tRejects] = append(b.rows[tRejects], row)
	case recShadow:
		d, err := decide.DecodeShadow(p)
		if err != nil {
			return err
		}
		if err := checkText("shadow key", d.Key); err != nil {
			return err
		}
		if d.Tenant != tenant {
			return fmt.Errorf("shadow decision of tenant %q in a journal of tenant %q", d.Tenant, tenant)
		}
		b.rows[tOutbox] = append(b.rows[tOutbox], []any{tenant, "decision.shadow", jid, int64(off), shadowJSON(&d)})
	case recEdgarRaw:
		// The raw bytes stay in the journal (replay reads them there);
		// Postgres gets the parsed document and its sha256.
	case recMeta, recEnd, recRouter, recControl:
		b.rows[tOutbox] = append(b.rows[tOutbox], []any{tenant, outboxTopic(kind), jid, int64(off), append([]byte{}, p...)})
	default:
		return fmt.Errorf("unknown record kind %d", kind)
	}
	return nil
}

// flush writes the batch and moves shipper_offsets from b.start to b.end in
// one transaction. If the stored offset is not b.start, nothing is written.
//
// A panic inside the driver (pgx v5.7.2 closed a channel twice when the
// server died mid-COPY, jackc/pgx#2364) is turned into a failed batch: the
// transaction was never committed, so the batch is retried like any other
// connection loss instead of taking the engine down.
func (s *Shipper) flush(ctx context.Context, b *batch) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("batch [%d,%d): driver panic: %v", b.start, b.end, p)
		}
	}()
	return s.flushTx(ctx, b)
}

func (s *Shipper) flushTx(ctx context.Context, b *batch) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("batch [%d,%d): begin: %w", b.start, b.end, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if err := WithTenant(ctx, tx, s.opts.Tenant); err != nil {
		return err
	}
	var cur int64
	if err := tx.QueryRow(ctx, "SELECT next_offset FROM shipper_offsets WHERE journal_id = $1 FOR UPDATE",
		s.opts.JournalID).Scan(&cur); err != nil {
		return fmt.Errorf("batch [%d,%d): lock offset: %w", b.start, b.end, err)
	}
	if uint64(cur) != b.start {
		return fmt.Errorf("%w: stored %d, batch starts at %d", errOffsetMoved, cur, b.start)
	}
	if _, err := tx.Exec(ctx, stagingDDL); err != nil {
		return fmt.Errorf("batch [%d,%d): staging tables: %w", b.start, b.end, err)
	}
	// COPY each table's rows into its staging table, then move them all
	// and store the offset in one pipelined round trip.
	var q pgx.Batch
	var queued []int
	for i := range tables {
		rows := b.rows[i]
		if len(rows) == 0 {
			continue
		}
		t := &tables[i]
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.stage}, t.cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("batch [%d,%d): copy %s: %w", b.start, b.end, t.name, err)
		}
		q.Queue(insertSQL[i])
		queued = append(queued, i)
		if i == tLabels {
			q.Queue(fillLabels)
			queued = append(queued, -1)
		}
		if i == tWindows {
			q.Queue(fillEdgar)
			queued = append(queued, -3)
		}
	}
	if s.testHookBeforeOffset != nil {
		s.testHookBeforeOffset()
	}
	q.Queue("UPDATE shipper_offsets SET next_offset = $2, updated_at = now() WHERE journal_id = $1", s.opts.JournalID, int64(b.end))
	queued = append(queued, -2)
	br := tx.SendBatch(ctx, &q)
	var inserted int64
	for _, i := range queued {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			what := "store offset"
			switch {
			case i >= 0:
				what = "insert " + tables[i].name
			case i == -1:
				what = "fill labels"
			case i == -3:
				what = "fill edgar windows"
			}
			return fmt.Errorf("batch [%d,%d): %s: %w", b.start, b.end, what, err)
		}
		if i >= 0 {
			inserted += tag.RowsAffected()
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("batch [%d,%d): %w", b.start, b.end, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("batch [%d,%d): commit: %w", b.start, b.end, err)
	}
	s.next.Store(b.end)
	s.batches.Add(1)
	s.rows.Add(uint64(inserted))
	s.records.Add(uint64(b.n))
	i := 0
	for i < len(BatchSizeBounds) && uint64(b.n) > BatchSizeBounds[i] {
		i++
	}
	s.sizes[i].Add(1)
	s.rejects.Add(uint64(b.rejected))
	return nil
}
