package record

// PriceScale is the number of fixed-point price units in one currency unit:
// prices are int64 in units of 1e-9, as in Databento's DBN.
const PriceScale int64 = 1_000_000_000

// UndefPrice marks an absent price (DBN's UNDEF_PRICE, i64::MAX).
const UndefPrice int64 = 1<<63 - 1

// Kind says what a MarketTick carries.
type Kind uint8

const (
	// KindQuote sets one book level (Depth) on both sides: BidPx/BidQty and
	// AskPx/AskQty. MBP-1 and TBBO give Depth 0; MBP-10 gives Depth 0..9, one
	// tick per level, the last one flagged FlagLast.
	KindQuote Kind = iota + 1
	// KindTrade is a trade print: TradePx, TradeQty, Side is the aggressor.
	KindTrade
	// KindOrder is a market-by-order event: Action, Side, Price, Size,
	// OrderID. A trade or fill order event also sets TradePx/TradeQty.
	KindOrder
	// KindClear empties the book of Symbol (MBO action 'R').
	KindClear
	// KindWatermark is an in-band event-time marker from the dispatcher:
	// TsEvent is the global watermark. It carries no market data and is
	// sent to every partition at the same point of the input, so that window
	// closing is identical whatever the number of partitions.
	KindWatermark
	// KindControl is an in-band control record from the control plane (a
	// router version swap): Action is the control type, Seq its argument
	// (the router version). The dispatcher applies it at its position in
	// the input and journals it there, so a replay applies it at the same
	// point. It carries no market data and reaches no partition.
	KindControl
)

// Control types, in MarketTick.Action of a KindControl tick.
const (
	ControlRouter uint8 = 'R' // swap in router version Seq
	ControlRecipe uint8 = 'F' // windows closing from here on use feature recipe Seq (partitions)
	// ControlWindow moves the window grid (partitions and the watermark):
	// Price is the new window length in ns, Size the overlap in parts per
	// million, TsEvent the boundary (set by the dispatcher).
	ControlWindow uint8 = 'W'
	// ControlOperator applies operator action Seq (the kill switch, the
	// deny list, an expert's force/unforce/retire/restart, ladder step 6)
	// in the decision stage at the boundary in TsEvent.
	ControlOperator uint8 = 'O'
	// ControlHalt halts (Size 1) or releases (Size 0) decisions on symbol
	// Seq in the decision stage, from the batch after it: a venue's trading
	// halt, placed by the feed at the halt message.
	ControlHalt uint8 = 'H'
	// ControlGap, ControlRequest and ControlLost are a live feed's sequence
	// events, in the stream where they happened: a gap of Size messages
	// from sequence number Seq seen missing, a re-request sent for them,
	// or given up at the deadline (an anomaly). Price holds when the
	// receiver noticed it (ns since the epoch). They change no state: the
	// journal keeps them so a live session's record is complete.
	ControlGap     uint8 = 'G'
	ControlRequest uint8 = 'Q'
	ControlLost    uint8 = 'L'
)

// Action codes of an order event, as DBN writes them.
const (
	ActionAdd    uint8 = 'A'
	ActionCancel uint8 = 'C'
	ActionModify uint8 = 'M'
	ActionClear  uint8 = 'R'
	ActionTrade  uint8 = 'T'
	ActionFill   uint8 = 'F'
	ActionNone   uint8 = 'N'
)

// Side codes, as DBN writes them.
const (
	SideBid  uint8 = 'B'
	SideAsk  uint8 = 'A'
	SideNone uint8 = 'N'
)

// Flags on a tick. The low byte mirrors DBN's flags field.
const (
	FlagLast       uint16 = 1 << 7 // last record of an event (DBN F_LAST)
	FlagTOB        uint16 = 1 << 6 // top-of-book message (DBN F_TOB)
	FlagSnapshot   uint16 = 1 << 5 // from a replay/snapshot (DBN F_SNAPSHOT)
	FlagMBP        uint16 = 1 << 4 // aggregated price level (DBN F_MBP)
	FlagBadTsRecv  uint16 = 1 << 3 // DBN F_BAD_TS_RECV
	FlagMaybeBad   uint16 = 1 << 2 // DBN F_MAYBE_BAD_BOOK
	FlagPublisher  uint16 = 1 << 1 // DBN publisher-specific bit
	FlagHasTrade   uint16 = 1 << 8 // TradePx/TradeQty are set (TBBO, MBP-1 trade)
	FlagBurst      uint16 = 1 << 9 // synthetic feed: emitted inside a burst
	FlagSeqUnknown uint16 = 1 << 10
	// FlagEnd on a KindWatermark tick marks the end of the input: the
	// partition closes every open window and stops.
	FlagEnd uint16 = 1 << 11
)

// MarketTick is the fixed-size record that moves on the hot path (seed 004
// §3 MarketTick). It holds no pointers, so slabs and rings of it are plain
// memory the garbage collector never scans.
//
// Times are nanoseconds since the Unix epoch (event time). Prices are int64
// fixed point in units of 1e-9 (PriceScale); UndefPrice means absent.
type MarketTick struct {
	TsEvent int64  // event time, ns since epoch
	TsRecv  int64  // receive time, ns since epoch (0 if unknown)
	Seq     uint64 // venue sequence number
	InSeq   uint64 // ingest sequence: position in the input, assigned by the reader
	OrderID uint64 // KindOrder only

	BidPx   int64
	AskPx   int64
	TradePx int64
	Price   int64 // KindOrder: the order's price

	BidQty   uint32
	AskQty   uint32
	TradeQty uint32
	Size     uint32 // KindOrder: the order's size

	Symbol uint32 // interned symbol id (see Symbols)
	Venue  uint16 // interned venue id (DBN publisher id for DBN input)
	Flags  uint16

	Kind   Kind
	Action uint8
	Side   uint8
	Depth  uint8 // book level for KindQuote
	_      [4]byte
}

// TickSize is the size in bytes of a MarketTick.
const TickSize = 104
