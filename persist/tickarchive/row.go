package tickarchive

import (
	"strconv"

	"thunderline/hotpath/record"
)

// Row is one raw tick as archived: a file's columns, in this order, named
// by the parquet tags. Prices (bid_px, ask_px, trade_px, price) are int64
// fixed point in units of 1e-9 (record.PriceScale: 5000.25 is
// 5000250000000), as in the journal and in DBN; times (ts_event, ts_recv)
// are ns since the Unix epoch, UTC. kind is quote, trade, order or clear;
// action (orders: A add, C cancel, M modify, R clear, T trade, F fill, N
// none) and side (B bid, A ask, N none) are one letter or empty.
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
// It does not allocate: the strings are the caller's or constants.
func FromTick(tenant, name string, off uint64, t *record.MarketTick) Row {
	r := Row{Tenant: tenant, Symbol: name, TsEvent: t.TsEvent, TsRecv: t.TsRecv, JournalOffset: int64(off),
		InSeq: int64(t.InSeq), Seq: int64(t.Seq), Kind: kindName(t.Kind), Depth: int32(t.Depth),
		BidPx: t.BidPx, AskPx: t.AskPx, TradePx: t.TradePx, Price: t.Price, BidQty: int64(t.BidQty), AskQty: int64(t.AskQty),
		TradeQty: int64(t.TradeQty), Size: int64(t.Size), OrderID: int64(t.OrderID), Venue: int32(t.Venue), Flags: int32(t.Flags)}
	if t.Action != 0 {
		r.Action = letter(t.Action)
	}
	if t.Side != 0 {
		r.Side = letter(t.Side)
	}
	return r
}

// letter is the one-byte string of c; the runtime's one-byte strings are
// static, so this does not allocate (string(rune(c)) would).
func letter(c byte) string { return string([]byte{c}) }

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
	return "kind" + strconv.Itoa(int(k)) // DecodeTick refuses these: not met per tick
}
