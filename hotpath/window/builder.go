package window

import (
	"crypto/sha256"
	"fmt"
	"math"
	"time"

	"thunderline/hotpath/book"
	"thunderline/hotpath/record"
)

// Emitter receives what the builder produces. Calls happen once per window
// or label (not per tick), on the partition goroutine; the pointers are
// valid only during the call.
type Emitter interface {
	Window(w *FeatureWindow)
	Label(l *LabelFill)
}

// acc accumulates one window of one symbol.
type acc struct {
	k                 int64 // window index on its grid: start = origin + k*step
	start, end        int64
	used              bool
	endTaken          bool
	preMid, firstMid  float64 // mid before the first tick; first mid inside
	endMid, endSpread float64
	endTob, endDepth  float64
	sumSq, ofi        float64
	pxVol             float64
	spreadBps         float64
	spreadN           uint32
	ticks, trades     uint32
	volume            int64
	firstIn, lastIn   uint64
	buckets           [64]uint32
}

type pendingLabel struct {
	id     [16]byte
	end    int64
	target int64
	midEnd float64
}

type symState struct {
	sym      uint32
	maxTs    int64
	seen     bool
	closedK  int64 // every window k <= closedK is closed
	lowK     int64 // lowest window that may be open
	highK    int64 // highest window opened
	accs     []acc
	mid      float64 // mid after the last tick (0 when a side is empty)
	bid, ask book.Level
	labels   []pendingLabel // ring
	lHead    int
	lN       int
	active   bool
	// retiring are windows of a previous grid (before a reconfiguration),
	// open until their own end.
	retiring []acc
}

// Stats counts what a builder did.
type Stats struct {
	Windows       uint64 // windows emitted
	LabelsFilled  uint64 // label fills emitted
	LabelsDropped uint64 // labels not tracked: the per-symbol pending ring was full
	LateTicks     uint64 // ticks that missed at least one of their windows
	LateMisses    uint64 // (tick, window) pairs missed because the window had closed
	SnapshotTicks uint64 // snapshot records (F_SNAPSHOT) applied to the book only
}

// Builder builds the sliding windows of the symbols of one partition: it
// applies each tick to the partition's books and to the open windows it
// belongs to, closes windows as event time passes them, and fills labels at
// their horizon. Not safe for concurrent use.
type Builder struct {
	cfg     Config
	step    int64
	length  int64
	late    int64
	books   *book.Books
	syms    *record.Symbols
	tenant  string
	out     Emitter
	states  []*symState // by symbol id
	active  []uint32    // symbols with open windows or pending labels
	mark    int64       // last global watermark
	origin  int64       // grid origin: window k is [origin+k*step, +length)
	minK    int64       // lowest window index of the current grid
	scratch []byte
	win     FeatureWindow
	fill    LabelFill
	snap    book.Snapshot
	Stats   Stats
}

// NewBuilder returns a builder over books. syms names the symbols in the
// canonical encoding; tenant is stamped on every window.
func NewBuilder(cfg Config, books *book.Books, syms *record.Symbols, tenant string, out Emitter) (*Builder, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("window config: %w", err)
	}
	if cfg.Label.Horizon <= int64(cfg.Lateness) {
		return nil, fmt.Errorf("window config: label.horizon %d must exceed allowed_lateness %d", cfg.Label.Horizon, int64(cfg.Lateness))
	}
	if len(tenant) > maxNameLen {
		return nil, fmt.Errorf("tenant %q: longer than %d bytes", tenant, maxNameLen)
	}
	return &Builder{
		cfg: cfg, step: cfg.Step(), length: int64(cfg.Length), late: int64(cfg.Lateness),
		books: books, syms: syms, tenant: tenant, out: out,
		states: make([]*symState, record.MaxSymbols), mark: math.MinInt64, minK: math.MinInt64,
		scratch: make([]byte, 0, MaxWindowSize),
	}, nil
}

// SetRecipe makes every window emitted from now on use recipe r (ladder
// steps 4 and 5). It arrives in band, at the same point of the stream in
// every replay. An invalid or non-market recipe is ignored.
func (b *Builder) SetRecipe(r Recipe) {
	if r.Valid() && r != RecipeEdgar {
		b.cfg.Recipe = r
	}
}

// Config returns the builder's configuration, with defaults.
func (b *Builder) Config() Config { return b.cfg }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (b *Builder) startOf(k int64) int64 { return b.origin + k*b.step }
func (b *Builder) endOf(k int64) int64   { return b.origin + k*b.step + b.length }

// closedBy is the highest window index whose end is at or before wm.
func (b *Builder) closedBy(wm int64) int64 { return floorDiv(wm-b.origin-b.length, b.step) }

func (b *Builder) state(sym uint32) *symState {
	st := b.states[sym]
	if st == nil {
		st = &symState{sym: sym, accs: make([]acc, b.cfg.slots()),
			labels: make([]pendingLabel, b.cfg.MaxLabelsPending)}
		b.states[sym] = st
	}
	return st
}

// OnTick applies a validated tick: it closes what the tick's event time
// passes, applies it to the book, and adds it to its open windows. It
// returns the book's verdict (a reject reason when the book refused it) and
// how many of the tick's windows had already closed (late misses).
func (b *Builder) OnTick(t *record.MarketTick) (reason record.Reason, missed int) {
	if t.Flags&record.FlagSnapshot != 0 {
		return b.onSnapshot(t), 0
	}
	st := b.state(t.Symbol)
	if !st.seen {
		st.seen = true
		st.maxTs = t.TsEvent
		st.closedK = b.closedBy(max(b.mark, t.TsEvent-b.late))
		st.lowK = max(st.closedK+1, b.minK)
		st.highK = st.closedK
	}
	b.advance(st, t.TsEvent)
	bk := b.books.Get(t.Symbol)
	if r := b.books.Apply(t); r != record.ReasonNone {
		return r, 0
	}
	prevMid, prevBid, prevAsk := st.mid, st.bid, st.ask
	bid, ask, ok := bk.Best()
	st.bid, st.ask = bid, ask
	st.mid = 0
	if ok {
		st.mid = book.MidPrice(bid.Px, ask.Px)
	}
	// Per-tick quantities, computed once and added to every window.
	var ret2, ofi, spreadBps float64
	if prevMid > 0 && st.mid > 0 && st.mid != prevMid {
		r := (st.mid - prevMid) / prevMid
		ret2 = float64(r * r)
	}
	if ok && prevBid.Qty > 0 && prevAsk.Qty > 0 {
		ofi = orderFlow(prevBid, prevAsk, bid, ask)
	}
	if ok {
		spreadBps = float64(ask.Px-bid.Px) / 1e9 / st.mid * 1e4
	}
	var tradePx float64
	var tradeQty uint32
	switch {
	case t.Kind == record.KindTrade:
		tradePx, tradeQty = float64(t.TradePx)/1e9, t.TradeQty
	case t.Kind == record.KindOrder && t.Action == record.ActionTrade:
		// MBO: count the trade print, not the fills of the resting orders.
		tradePx, tradeQty = float64(t.Price)/1e9, t.Size
	}

	kLo := max(floorDiv(t.TsEvent-b.origin-b.length, b.step)+1, b.minK)
	kHi := floorDiv(t.TsEvent-b.origin, b.step)
	for k := kLo; k <= kHi; k++ {
		if k <= st.closedK {
			missed++
			continue
		}
		b.accumulate(b.open(st, k, prevMid), t, st.mid, ret2, ofi, spreadBps, ok, tradePx, tradeQty)
	}
	for i := range st.retiring {
		if a := &st.retiring[i]; t.TsEvent >= a.start && t.TsEvent < a.end {
			b.accumulate(a, t, st.mid, ret2, ofi, spreadBps, ok, tradePx, tradeQty)
		}
	}
	if missed > 0 {
		b.Stats.LateTicks++
		b.Stats.LateMisses += uint64(missed)
	}
	return record.ReasonNone, missed
}

// accumulate adds one tick's quantities to window a.
func (b *Builder) accumulate(a *acc, t *record.MarketTick, mid, ret2, ofi, spreadBps float64, ok bool, tradePx float64, tradeQty uint32) {
	a.ticks++
	if a.ticks == 1 {
		a.firstIn = t.InSeq
	}
	a.lastIn = t.InSeq
	if a.firstMid == 0 && mid > 0 {
		a.firstMid = mid
	}
	a.sumSq += ret2
	a.ofi += ofi
	if ok {
		a.spreadBps += spreadBps
		a.spreadN++
	}
	if tradeQty > 0 {
		a.trades++
		a.volume += int64(tradeQty)
		a.pxVol += float64(tradePx * float64(tradeQty))
	}
	bucket := (t.TsEvent - a.start) * int64(b.cfg.BurstBuckets) / (a.end - a.start)
	a.buckets[bucket]++
}

// orderFlow is the order-flow imbalance contribution of one book change
// (Cont, Kukanov & Stoikov 2014): bid size added at or above the old best
// bid, minus ask size added at or below the old best ask.
func orderFlow(pb, pa, b, a book.Level) float64 {
	var e int64
	if b.Px >= pb.Px {
		e += b.Qty
	}
	if b.Px <= pb.Px {
		e -= pb.Qty
	}
	if a.Px <= pa.Px {
		e -= a.Qty
	}
	if a.Px >= pa.Px {
		e += pa.Qty
	}
	return float64(e)
}

// open returns the accumulator of window k, starting it if new.
func (b *Builder) open(st *symState, k int64, preMid float64) *acc {
	slot := int(uint64(k) % uint64(len(st.accs)))
	a := &st.accs[slot]
	if a.used && a.k == k {
		return a
	}
	if a.used {
		// An older window still holds the slot: the slot count covers every
		// window that can be open, so this does not happen; close it rather
		// than lose it if it ever does.
		b.emit(st, a)
	}
	*a = acc{k: k, start: b.startOf(k), end: b.endOf(k), used: true, preMid: preMid}
	if k > st.highK {
		st.highK = k
	}
	if k < st.lowK {
		st.lowK = k
	}
	if !st.active {
		st.active = true
		b.active = append(b.active, st.sym)
	}
	return a
}

// advance moves the symbol's event time to ts (if later): windows whose end
// it passes take their closing book snapshot (the book before this tick),
// windows behind the watermark close, labels whose horizon it passes fill.
func (b *Builder) advance(st *symState, ts int64) {
	if ts > st.maxTs {
		for k := st.lowK; k <= st.highK; k++ {
			a := b.acc(st, k)
			if a != nil && !a.endTaken && a.end <= ts {
				b.takeEnd(st, a)
			}
		}
		for i := range st.retiring {
			if a := &st.retiring[i]; !a.endTaken && a.end <= ts {
				b.takeEnd(st, a)
			}
		}
		st.maxTs = ts
	}
	b.settle(st, max(b.mark, st.maxTs-b.late), st.maxTs)
}

// settle closes the windows of st that end at or before wm and fills the
// labels whose target is at or before max(wm, now), with the current mid.
func (b *Builder) settle(st *symState, wm, now int64) {
	if len(st.retiring) > 0 {
		b.retire(st, wm)
	}
	for k := st.lowK; k <= st.highK && b.endOf(k) <= wm; k++ {
		if a := b.acc(st, k); a != nil {
			b.emit(st, a)
		}
		st.lowK = k + 1
	}
	if c := b.closedBy(wm); c > st.closedK {
		st.closedK = c
		st.lowK = max(st.lowK, c+1)
	}
	target := max(wm, now)
	for st.lN > 0 {
		p := &st.labels[st.lHead]
		if p.target > target {
			break
		}
		b.fillLabel(st, p)
		st.lHead = (st.lHead + 1) % len(st.labels)
		st.lN--
	}
}

// retire emits the retiring windows of st that end at or before wm, in
// end order (they are kept in start order, and share one length).
func (b *Builder) retire(st *symState, wm int64) {
	n := 0
	for i := range st.retiring {
		if a := &st.retiring[i]; a.end <= wm {
			b.emit(st, a)
			continue
		}
		st.retiring[n] = st.retiring[i]
		n++
	}
	st.retiring = st.retiring[:n]
}

func (b *Builder) acc(st *symState, k int64) *acc {
	a := &st.accs[int(uint64(k)%uint64(len(st.accs)))]
	if a.used && a.k == k {
		return a
	}
	return nil
}

func (b *Builder) takeEnd(st *symState, a *acc) {
	a.endTaken = true
	bk := b.books.Get(st.sym)
	bk.Snap(&b.snap, b.cfg.Depth)
	a.endMid = b.snap.Mid
	a.endSpread = b.snap.Spread
	a.endTob = b.snap.Imbalance
	a.endDepth = b.snap.DepthImbalance
}

// emit closes a: computes its features, hashes it, emits it and queues its
// label.
func (b *Builder) emit(st *symState, a *acc) {
	if !a.endTaken {
		b.takeEnd(st, a)
	}
	w := &b.win
	*w = FeatureWindow{
		Start: a.start, End: a.end, Label: b.cfg.Label,
		FirstInSeq: a.firstIn, LastInSeq: a.lastIn, Ticks: a.ticks, Symbol: st.sym,
		SchemaVersion: b.cfg.Recipe.SchemaVersion(), Kind: KindMarket, Recipe: b.cfg.Recipe,
		Status: StatusOpen,
	}
	f := &w.Features
	startMid := a.preMid
	if startMid <= 0 {
		startMid = a.firstMid
	}
	if startMid > 0 && a.endMid > 0 {
		f[FMidReturn] = (a.endMid - startMid) / startMid
	}
	if a.endMid > 0 {
		f[FSpreadBps] = a.endSpread / a.endMid * 1e4
	}
	f[FTobImbalance] = a.endTob
	f[FDepthImbalance] = a.endDepth
	f[FRealizedVol] = math.Sqrt(a.sumSq)
	f[FTradeCount] = float64(a.trades)
	f[FVolume] = float64(a.volume)
	if a.volume > 0 {
		f[FVWAP] = a.pxVol / float64(a.volume)
	}
	f[FOFI] = a.ofi
	var maxB uint32
	for _, n := range a.buckets[:b.cfg.BurstBuckets] {
		maxB = max(maxB, n)
	}
	mean := float64(a.ticks) / float64(b.cfg.BurstBuckets)
	if maxB >= uint32(b.cfg.BurstMinTicks) && float64(maxB) >= float64(b.cfg.BurstRatio*mean) {
		f[FMicroburst] = 1
	}
	f[FTickCount] = float64(a.ticks)
	f[FMid] = a.endMid
	if a.spreadN > 0 {
		f[FMeanSpreadBps] = a.spreadBps / float64(a.spreadN)
	}
	name := b.syms.Name(st.sym)
	w.ID = WindowID(b.tenant, KindMarket, name, w.Start, w.End, w.Recipe)
	b.scratch = AppendWindow(b.scratch[:0], w, b.tenant, name)
	w.Hash = sha256.Sum256(b.scratch)
	a.used = false
	b.Stats.Windows++
	b.out.Window(w)
	if st.lN == len(st.labels) {
		b.Stats.LabelsDropped++
		return
	}
	i := (st.lHead + st.lN) % len(st.labels)
	st.labels[i] = pendingLabel{id: w.ID, end: w.End, target: w.End + b.cfg.Label.Horizon, midEnd: a.endMid}
	st.lN++
}

func (b *Builder) fillLabel(st *symState, p *pendingLabel) {
	l := &b.fill
	*l = LabelFill{WindowID: p.id, End: p.end, Label: b.cfg.Label, MidEnd: p.midEnd,
		MidTarget: st.mid, Symbol: st.sym}
	if p.midEnd > 0 && st.mid > 0 {
		l.Valid = true
		switch b.cfg.Label.Type {
		case LabelDelta:
			l.Value = st.mid - p.midEnd
		case LabelClass:
			bps := (st.mid - p.midEnd) / p.midEnd * 1e4
			switch {
			case bps > b.cfg.Label.ThresholdBps:
				l.Value = 1
			case bps < -b.cfg.Label.ThresholdBps:
				l.Value = -1
			}
		}
	}
	b.scratch = AppendLabel(b.scratch[:0], l, b.syms.Name(st.sym))
	l.Hash = sha256.Sum256(b.scratch)
	b.Stats.LabelsFilled++
	b.out.Label(l)
}

// onSnapshot applies a snapshot record (DBN F_SNAPSHOT: the book as it
// stood when the feed started) to the book only: it is no history, so it
// makes no window and no label, and its event time (an order's original
// entry, often days old) moves no window. The first live tick after it
// starts the symbol's windows from the book the snapshot built.
func (b *Builder) onSnapshot(t *record.MarketTick) record.Reason {
	st := b.state(t.Symbol)
	bk := b.books.Get(t.Symbol)
	if r := b.books.Apply(t); r != record.ReasonNone {
		return r
	}
	b.Stats.SnapshotTicks++
	bid, ask, ok := bk.Best()
	st.bid, st.ask, st.mid = bid, ask, 0
	if ok {
		st.mid = book.MidPrice(bid.Px, ask.Px)
	}
	return record.ReasonNone
}

// OnWatermark moves the partition's watermark to wm (event time before which
// no more ticks will be accepted): every symbol's windows ending at or
// before it close and labels due by it fill.
func (b *Builder) OnWatermark(wm int64) {
	if wm <= b.mark {
		return
	}
	b.mark = wm
	b.sweep(func(st *symState) { b.settle(st, max(wm, st.maxTs-b.late), st.maxTs) })
}

// Flush closes every open window, at the end of the input. Labels whose
// horizon the input never reached stay open; Pending reports them.
func (b *Builder) Flush() {
	b.sweep(func(st *symState) {
		b.retire(st, math.MaxInt64)
		for k := st.lowK; k <= st.highK; k++ {
			if a := b.acc(st, k); a != nil {
				b.emit(st, a)
			}
		}
		st.lowK = st.highK + 1
		st.closedK = st.highK
	})
}

// Pending returns the number of labels still waiting for their horizon.
func (b *Builder) Pending() int {
	n := 0
	for _, sym := range b.active {
		n += b.states[sym].lN
	}
	return n
}

// sweep calls f on every active symbol in ascending id order and drops
// symbols left with nothing open or pending from the active list.
func (b *Builder) sweep(f func(st *symState)) {
	sortIDs(b.active)
	kept := b.active[:0]
	for _, sym := range b.active {
		st := b.states[sym]
		f(st)
		if st.lowK > st.highK && st.lN == 0 && len(st.retiring) == 0 {
			st.active = false
			continue
		}
		kept = append(kept, sym)
	}
	b.active = kept
}

// sortIDs is an insertion sort: the active list is nearly sorted (symbols
// are appended as they become active), and sorting in place does not
// allocate.
func sortIDs(a []uint32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// GridOrigin is where a reconfigured grid starts: one old step and the
// allowed lateness after the boundary, so that no window of the old grid
// (a tick up to the lateness ahead of the watermark may have opened one)
// starts at or after it — an old and a new window never share bounds, nor
// an id.
func GridOrigin(boundary, lateness, oldStep int64) int64 { return boundary + lateness + oldStep }

// Reconfigure moves the window grid at boundary (ladder steps 1 and 2: a
// longer window, no overlap): windows already open keep their own bounds and
// close at their own end; new windows follow the new length and overlap,
// starting at GridOrigin. It arrives in band (a control record at the same
// point of every replay), so the windows it makes are the same in every
// run. It allocates (new per-symbol slots): a rare control, not a per-tick
// path.
func (b *Builder) Reconfigure(length time.Duration, overlap float64, boundary int64) error {
	cfg := b.cfg
	cfg.Length, cfg.Overlap, cfg.NoOverlap = length, overlap, overlap == 0
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("window reconfigure: %w", err)
	}
	if cfg.Label.Horizon <= int64(cfg.Lateness) {
		return fmt.Errorf("window reconfigure: label.horizon must exceed allowed_lateness")
	}
	origin := GridOrigin(boundary, b.late, b.step)
	b.cfg = cfg
	b.step, b.length = cfg.Step(), int64(cfg.Length)
	b.origin, b.minK = origin, 0
	for _, st := range b.states {
		if st == nil {
			continue
		}
		for i := range st.accs {
			if st.accs[i].used {
				st.retiring = append(st.retiring, st.accs[i])
			}
		}
		st.accs = make([]acc, cfg.slots())
		wm := b.mark
		if st.seen {
			wm = max(wm, st.maxTs-b.late)
		}
		st.closedK = max(b.closedBy(max(wm, origin)), -1)
		st.lowK = st.closedK + 1
		st.highK = st.lowK - 1
	}
	return nil
}
