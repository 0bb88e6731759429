package tickarchive

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"thunderline/hotpath/record"
	"thunderline/persist/artifacts"
)

// File describes a written archive file.
type File struct {
	Rows                    int
	Symbols                 []string // sorted, distinct
	TsFrom, TsTo            int64    // event times of the earliest and latest tick (ns)
	FirstOffset, LastOffset uint64   // journal offsets covered (ticks' lowest and highest)
	SHA256                  [32]byte
	Bytes                   int64
}

// RowGroupRows bounds a row group: one symbol's ticks, at most this many.
const RowGroupRows = 64 << 10

// Format is the artifact format label of archive files.
const Format = "parquet"

// Writer gathers the raw ticks of a range of journal records and writes
// them as one archive file. The zero value is ready to use; Reset keeps its
// memory for the next file, so a reused Writer does not allocate per tick
// (BenchmarkWrite). Not safe for concurrent use.
type Writer struct {
	rows []Row
	// sort's scratch: symbol → bucket (order of first sight), the names,
	// each row's bucket then rank, bucket → rank, where each rank starts
	// and its cursor, the rows in order
	sym        map[string]int32
	names      []string
	perm, rank []int32
	start, cur []int32
	out        []Row
	pw         *parquet.GenericWriter[Row]
	cw         countWriter
	h          hash.Hash
	buf        bytes.Buffer // Put's file
}

// Add appends the tick t of symbol name, journaled at offset off.
func (w *Writer) Add(tenant, name string, off uint64, t *record.MarketTick) {
	w.rows = append(w.rows, FromTick(tenant, name, off, t))
}

// AddRow appends a row as it is.
func (w *Writer) AddRow(r Row) { w.rows = append(w.rows, r) }

// Len is the number of ticks added since the last Reset.
func (w *Writer) Len() int { return len(w.rows) }

// Reset forgets the ticks added, keeping the memory.
func (w *Writer) Reset() { w.rows = w.rows[:0] }

// WriteFile sorts the ticks added by (symbol, event time, journal offset)
// and writes them to dst as one Parquet file: zstd, a row group per symbol
// (cut at RowGroupRows), the sort order declared in its metadata. The
// bytes depend on the ticks only, so the same ticks give the same file
// (and the same sha256). It returns what the file holds; the ticks stay
// added (sorted) until Reset.
func (w *Writer) WriteFile(dst io.Writer) (File, error) {
	if len(w.rows) == 0 {
		return File{}, errors.New("tickarchive: no rows to write")
	}
	rows := w.sort()
	f := File{Rows: len(rows), TsFrom: rows[0].TsEvent, TsTo: rows[0].TsEvent,
		FirstOffset: uint64(rows[0].JournalOffset), LastOffset: uint64(rows[0].JournalOffset)}
	if w.h == nil {
		w.h = sha256.New()
	}
	w.h.Reset()
	w.cw = countWriter{w: dst, h: w.h}
	if w.pw == nil {
		w.pw = parquet.NewGenericWriter[Row](&w.cw, parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
			parquet.CreatedBy("thunderline", "tickarchive", "1"),
			parquet.SortingWriterConfig(parquet.SortingColumns(parquet.Ascending("symbol"), parquet.Ascending("ts_event"))))
	} else {
		w.pw.Reset(&w.cw)
	}
	// What the numbers mean, for whoever opens a file without this package.
	w.pw.SetKeyValueMetadata("thunderline.prices", "bid_px, ask_px, trade_px, price: int64 fixed point, units of 1e-9 (5000.25 is 5000250000000)")
	w.pw.SetKeyValueMetadata("thunderline.times", "ts_event, ts_recv: int64 ns since the Unix epoch, UTC")
	w.pw.SetKeyValueMetadata("thunderline.order", "sorted by symbol, ts_event, journal_offset; a row group per symbol")
	for lo := 0; lo < len(rows); {
		hi := lo + 1
		for hi < len(rows) && hi-lo < RowGroupRows && rows[hi].Symbol == rows[lo].Symbol {
			hi++
		}
		if _, err := w.pw.Write(rows[lo:hi]); err != nil {
			return File{}, fmt.Errorf("tickarchive: write rows: %w", err)
		}
		if err := w.pw.Flush(); err != nil { // a row group
			return File{}, fmt.Errorf("tickarchive: write row group: %w", err)
		}
		if lo == 0 || rows[lo].Symbol != rows[lo-1].Symbol {
			f.Symbols = append(f.Symbols, rows[lo].Symbol)
		}
		for i := range rows[lo:hi] {
			r := &rows[lo+i]
			f.TsFrom, f.TsTo = min(f.TsFrom, r.TsEvent), max(f.TsTo, r.TsEvent)
			f.FirstOffset, f.LastOffset = min(f.FirstOffset, uint64(r.JournalOffset)), max(f.LastOffset, uint64(r.JournalOffset))
		}
		lo = hi
	}
	if err := w.pw.Close(); err != nil {
		return File{}, fmt.Errorf("tickarchive: close: %w", err)
	}
	w.h.Sum(f.SHA256[:0])
	f.Bytes = w.cw.n
	return f, nil
}

// sort puts w.rows in (symbol, event time, journal offset) order. Ticks
// come in journal order, so each symbol's ticks are mostly in time order
// already: a stable counting sort by symbol (the few distinct names
// sorted), then a sort of only those symbols whose ticks are not in order.
// Measured against slices.SortFunc over the rows: BenchmarkWrite.
func (w *Writer) sort() []Row {
	rows := w.rows
	if w.sym == nil {
		w.sym = map[string]int32{}
	}
	clear(w.sym)
	w.names = w.names[:0]
	w.perm = w.perm[:0]
	for i := range rows {
		b, ok := w.sym[rows[i].Symbol]
		if !ok {
			b = int32(len(w.names))
			w.sym[rows[i].Symbol] = b
			w.names = append(w.names, rows[i].Symbol)
		}
		w.perm = append(w.perm, b)
	}
	// Ranks by name; then start[rank] is where that symbol's rows begin.
	w.rank = slices.Grow(w.rank[:0], len(w.names))[:len(w.names)]
	slices.Sort(w.names)
	for rank, name := range w.names {
		w.rank[w.sym[name]] = int32(rank)
	}
	w.start = slices.Grow(w.start[:0], len(w.names)+1)[:len(w.names)+1]
	clear(w.start)
	for i, b := range w.perm {
		w.perm[i] = w.rank[b]
		w.start[w.perm[i]+1]++
	}
	for r := 1; r < len(w.start); r++ {
		w.start[r] += w.start[r-1]
	}
	w.cur = append(w.cur[:0], w.start[:len(w.names)]...)
	w.out = slices.Grow(w.out[:0], len(rows))[:len(rows)]
	for i, r := range w.perm {
		w.out[w.cur[r]] = rows[i]
		w.cur[r]++
	}
	for r := range w.names {
		g := w.out[w.start[r]:w.start[r+1]]
		if !slices.IsSortedFunc(g, cmpTime) {
			slices.SortFunc(g, cmpTime)
		}
	}
	w.rows, w.out = w.out, rows
	return w.rows
}

// cmpTime orders one symbol's rows by event time, then journal offset.
func cmpTime(a, b Row) int {
	return cmp.Or(cmp.Compare(a.TsEvent, b.TsEvent), cmp.Compare(a.JournalOffset, b.JournalOffset))
}

// Put writes the file of the ticks added (WriteFile) into store, under its
// content address, and returns it with the stored artifact (same sha256
// and size, checked). Putting the same ticks again stores nothing new and
// returns the same artifact: a retried batch is idempotent.
func (w *Writer) Put(ctx context.Context, store artifacts.Store) (File, artifacts.Artifact, error) {
	w.buf.Reset()
	f, err := w.WriteFile(&w.buf)
	if err != nil {
		return File{}, artifacts.Artifact{}, err
	}
	a, err := store.Put(ctx, bytes.NewReader(w.buf.Bytes()), Format)
	if err != nil {
		return File{}, artifacts.Artifact{}, fmt.Errorf("tickarchive: store %d ticks: %w", f.Rows, err)
	}
	if a.SHA256 != f.SHA256 || a.Size != f.Bytes {
		return File{}, artifacts.Artifact{}, fmt.Errorf("tickarchive: the store kept %s (%d bytes) for a file of sha256 %x (%d bytes)",
			a.URI, a.Size, f.SHA256, f.Bytes)
	}
	return f, a, nil
}

// Write writes rows to w as one file, as Writer.WriteFile does; rows is
// left as it was.
func Write(w io.Writer, rows []Row) (File, error) {
	wr := Writer{rows: rows}
	return wr.WriteFile(w)
}

// countWriter passes bytes to w, hashing and counting them.
type countWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}
