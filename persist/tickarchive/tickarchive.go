package tickarchive

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"thunderline/hotpath/record"
)

// Row is one raw tick as archived. Prices are int64 fixed point in units
// of 1e-9 (record.PriceScale), as in the journal and in DBN; times are ns
// since the Unix epoch.
type Row struct {
	Tenant        string `parquet:"tenant,dict" json:"tenant"`
	Symbol        string `parquet:"symbol,dict" json:"symbol"`
	TsEvent       int64  `parquet:"ts_event" json:"ts_event"`
	TsRecv        int64  `parquet:"ts_recv" json:"ts_recv"`
	JournalOffset int64  `parquet:"journal_offset" json:"journal_offset"`
	InSeq         int64  `parquet:"in_seq" json:"in_seq"`
	Seq           int64  `parquet:"seq" json:"seq"`
	Kind          string `parquet:"kind,dict" json:"kind"`     // quote, trade, order, …
	Action        string `parquet:"action,dict" json:"action"` // A, C, M, R, T, F, N (orders) or ""
	Side          string `parquet:"side,dict" json:"side"`     // B, A, N or ""
	Depth         int32  `parquet:"depth" json:"depth"`
	BidPx         int64  `parquet:"bid_px" json:"bid_px"`
	AskPx         int64  `parquet:"ask_px" json:"ask_px"`
	TradePx       int64  `parquet:"trade_px" json:"trade_px"`
	Price         int64  `parquet:"price" json:"price"`
	BidQty        int64  `parquet:"bid_qty" json:"bid_qty"`
	AskQty        int64  `parquet:"ask_qty" json:"ask_qty"`
	TradeQty      int64  `parquet:"trade_qty" json:"trade_qty"`
	Size          int64  `parquet:"size" json:"size"`
	OrderID       int64  `parquet:"order_id" json:"order_id"`
	Venue         int32  `parquet:"venue" json:"venue"`
	Flags         int32  `parquet:"flags" json:"flags"`
}

// FromTick is the row of tick t of symbol name, journaled at offset off.
func FromTick(tenant, name string, off uint64, t *record.MarketTick) Row {
	r := Row{Tenant: tenant, Symbol: name, TsEvent: t.TsEvent, TsRecv: t.TsRecv, JournalOffset: int64(off),
		InSeq: int64(t.InSeq), Seq: int64(t.Seq), Kind: kindName(t.Kind), Depth: int32(t.Depth),
		BidPx: t.BidPx, AskPx: t.AskPx, TradePx: t.TradePx, Price: t.Price, BidQty: int64(t.BidQty), AskQty: int64(t.AskQty),
		TradeQty: int64(t.TradeQty), Size: int64(t.Size), OrderID: int64(t.OrderID), Venue: int32(t.Venue), Flags: int32(t.Flags)}
	if t.Action != 0 {
		r.Action = string(rune(t.Action))
	}
	if t.Side != 0 {
		r.Side = string(rune(t.Side))
	}
	return r
}

// File describes a written archive file.
type File struct {
	Rows                    int
	Symbols                 []string // sorted, distinct
	TsFrom, TsTo            int64    // event times of the first and last tick (ns)
	FirstOffset, LastOffset uint64   // journal offsets covered (ticks' lowest and highest)
	SHA256                  [32]byte
	Bytes                   int64
}

// RowGroupRows bounds a row group: one symbol's ticks, at most this many.
const RowGroupRows = 64 << 10

// Write sorts rows by (symbol, event time, journal offset) in place and
// writes them to w as one Parquet file, a row group per symbol (cut at
// RowGroupRows), zstd-compressed. It returns what the file holds.
func Write(w io.Writer, rows []Row) (File, error) {
	if len(rows) == 0 {
		return File{}, errors.New("tickarchive: no rows to write")
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.Symbol, b.Symbol), cmp.Compare(a.TsEvent, b.TsEvent), cmp.Compare(a.JournalOffset, b.JournalOffset))
	})
	f := File{Rows: len(rows), TsFrom: rows[0].TsEvent, TsTo: rows[0].TsEvent,
		FirstOffset: uint64(rows[0].JournalOffset), LastOffset: uint64(rows[0].JournalOffset)}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	pw := parquet.NewGenericWriter[Row](cw, parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.CreatedBy("thunderline", "tickarchive", "1"))
	for lo := 0; lo < len(rows); {
		hi := lo + 1
		for hi < len(rows) && hi-lo < RowGroupRows && rows[hi].Symbol == rows[lo].Symbol {
			hi++
		}
		if _, err := pw.Write(rows[lo:hi]); err != nil {
			return File{}, fmt.Errorf("tickarchive: write rows: %w", err)
		}
		if err := pw.Flush(); err != nil { // a row group
			return File{}, fmt.Errorf("tickarchive: write row group: %w", err)
		}
		f.Symbols = append(f.Symbols, rows[lo].Symbol)
		for _, r := range rows[lo:hi] {
			f.TsFrom, f.TsTo = min(f.TsFrom, r.TsEvent), max(f.TsTo, r.TsEvent)
			f.FirstOffset, f.LastOffset = min(f.FirstOffset, uint64(r.JournalOffset)), max(f.LastOffset, uint64(r.JournalOffset))
		}
		lo = hi
	}
	if err := pw.Close(); err != nil {
		return File{}, fmt.Errorf("tickarchive: close: %w", err)
	}
	f.Symbols = slices.Compact(f.Symbols)
	copy(f.SHA256[:], h.Sum(nil))
	f.Bytes = cw.n
	return f, nil
}

// Read reads every row of an archive file. A file that is not one (torn,
// corrupt, another schema) is an error naming what is wrong.
func Read(r io.ReaderAt, size int64) (rows []Row, err error) {
	defer func() {
		if p := recover(); p != nil { // the library on hostile bytes
			rows, err = nil, fmt.Errorf("tickarchive: not a readable archive file: %v", p)
		}
	}()
	pf, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("tickarchive: open: %w", err)
	}
	if want := parquet.SchemaOf(Row{}); !sameColumns(pf.Schema(), want) {
		return nil, fmt.Errorf("tickarchive: schema %s is not the tick archive's", pf.Schema())
	}
	if n := pf.NumRows(); n < 0 || n > MaxRows {
		return nil, fmt.Errorf("tickarchive: the file says %d rows: more than %d", n, MaxRows)
	}
	pr := parquet.NewGenericReader[Row](pf)
	defer pr.Close()
	chunk := make([]Row, 4096)
	for {
		n, err := pr.Read(chunk)
		rows = append(rows, chunk[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tickarchive: read rows: %w", err)
		}
		if n == 0 || int64(len(rows)) > pf.NumRows() {
			return nil, fmt.Errorf("tickarchive: rows beyond the %d the file says", pf.NumRows())
		}
	}
	if int64(len(rows)) != pf.NumRows() {
		return nil, fmt.Errorf("tickarchive: read %d of %d rows", len(rows), pf.NumRows())
	}
	return rows, nil
}

// MaxRows is the most rows Read accepts in a file (the shipper writes far
// fewer): a footer claiming more is refused before anything is read.
const MaxRows = 1 << 24

// ReadBytes is Read of a file held in memory.
func ReadBytes(b []byte) ([]Row, error) { return Read(bytes.NewReader(b), int64(len(b))) }

func sameColumns(a, b *parquet.Schema) bool {
	ca, cb := a.Columns(), b.Columns()
	if len(ca) != len(cb) {
		return false
	}
	for i := range ca {
		if !slices.Equal(ca[i], cb[i]) {
			return false
		}
	}
	return true
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// kindName names a tick kind in the archive's kind column.
func kindName(k record.Kind) string {
	switch k {
	case record.KindQuote:
		return "quote"
	case record.KindTrade:
		return "trade"
	case record.KindOrder:
		return "order"
	case record.KindClear:
		return "clear"
	}
	return fmt.Sprintf("kind%d", k)
}
