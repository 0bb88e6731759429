package itch

// Typed messages of ITCH 5.0. Field names follow the specification; offsets
// are from the type byte. Every decoder checks the type and returns false
// for a message of another type; it never allocates.

// Header holds the fields every message starts with.
type Header struct {
	Type      byte
	Locate    uint16
	Tracking  uint16
	Timestamp int64 // ns since midnight
}

// Header returns the common fields.
func (m Message) Header() Header {
	return Header{Type: m.b[0], Locate: m.Locate(), Tracking: m.Tracking(), Timestamp: m.Timestamp()}
}

func (m Message) is(t byte, h *Header) bool {
	if len(m.b) == 0 || m.b[0] != t {
		return false
	}
	*h = m.Header()
	return true
}

func stock(b []byte, off int) (s Stock) {
	copy(s[:], b[off:off+8])
	return s
}

// SystemEvent is 'S'. EventCode: O start of messages, S start of system
// hours, Q start of market hours, M end of market hours, E end of system
// hours, C end of messages.
type SystemEvent struct {
	Header
	EventCode byte
}

// SystemEvent decodes an 'S' message.
func (m Message) SystemEvent(d *SystemEvent) bool {
	if !m.is(TypeSystemEvent, &d.Header) {
		return false
	}
	d.EventCode = m.b[11]
	return true
}

// StockDirectory is 'R'.
type StockDirectory struct {
	Header
	Stock                       Stock
	MarketCategory              byte
	FinancialStatus             byte
	RoundLotSize                uint32
	RoundLotsOnly               byte
	IssueClassification         byte
	IssueSubType                [2]byte
	Authenticity                byte
	ShortSaleThresholdIndicator byte
	IPOFlag                     byte
	LULDReferencePriceTier      byte
	ETPFlag                     byte
	ETPLeverageFactor           uint32
	InverseIndicator            byte
}

// StockDirectory decodes an 'R' message.
func (m Message) StockDirectory(d *StockDirectory) bool {
	if !m.is(TypeStockDirectory, &d.Header) {
		return false
	}
	b := m.b[:39]
	d.Stock = stock(b, 11)
	d.MarketCategory, d.FinancialStatus = b[19], b[20]
	d.RoundLotSize = be32(b, 21)
	d.RoundLotsOnly, d.IssueClassification = b[25], b[26]
	d.IssueSubType = [2]byte{b[27], b[28]}
	d.Authenticity, d.ShortSaleThresholdIndicator, d.IPOFlag = b[29], b[30], b[31]
	d.LULDReferencePriceTier, d.ETPFlag = b[32], b[33]
	d.ETPLeverageFactor = be32(b, 34)
	d.InverseIndicator = b[38]
	return true
}

// TradingAction is 'H'. TradingState: H halted, P paused (LULD), Q
// quotation only, T trading. Reason is a 4-byte code (e.g. "LUDP", "T1").
type TradingAction struct {
	Header
	Stock        Stock
	TradingState byte
	Reserved     byte
	Reason       [4]byte
}

// TradingAction decodes an 'H' message.
func (m Message) TradingAction(d *TradingAction) bool {
	if !m.is(TypeTradingAction, &d.Header) {
		return false
	}
	b := m.b[:25]
	d.Stock = stock(b, 11)
	d.TradingState, d.Reserved = b[19], b[20]
	copy(d.Reason[:], b[21:25])
	return true
}

// RegSHO is 'Y' (Reg SHO short sale price test restricted indicator).
type RegSHO struct {
	Header
	Stock  Stock
	Action byte // 0 no test, 1 in effect (intra-day drop), 2 remains in effect
}

// RegSHO decodes a 'Y' message.
func (m Message) RegSHO(d *RegSHO) bool {
	if !m.is(TypeRegSHO, &d.Header) {
		return false
	}
	d.Stock = stock(m.b, 11)
	d.Action = m.b[19]
	return true
}

// MarketParticipantPosition is 'L'.
type MarketParticipantPosition struct {
	Header
	MPID                   [4]byte
	Stock                  Stock
	PrimaryMarketMaker     byte
	MarketMakerMode        byte
	MarketParticipantState byte
}

// MarketParticipantPosition decodes an 'L' message.
func (m Message) MarketParticipantPosition(d *MarketParticipantPosition) bool {
	if !m.is(TypeMarketParticipantPos, &d.Header) {
		return false
	}
	b := m.b[:26]
	copy(d.MPID[:], b[11:15])
	d.Stock = stock(b, 15)
	d.PrimaryMarketMaker, d.MarketMakerMode, d.MarketParticipantState = b[23], b[24], b[25]
	return true
}

// MWCBDecline is 'V': the market-wide circuit breaker levels for the day.
type MWCBDecline struct {
	Header
	Level1, Level2, Level3 Price8
}

// MWCBDecline decodes a 'V' message.
func (m Message) MWCBDecline(d *MWCBDecline) bool {
	if !m.is(TypeMWCBDecline, &d.Header) {
		return false
	}
	b := m.b[:35]
	d.Level1, d.Level2, d.Level3 = Price8(be64(b, 11)), Price8(be64(b, 19)), Price8(be64(b, 27))
	return true
}

// MWCBStatus is 'W': a market-wide circuit breaker level was breached.
type MWCBStatus struct {
	Header
	BreachedLevel byte // '1', '2' or '3'
}

// MWCBStatus decodes a 'W' message.
func (m Message) MWCBStatus(d *MWCBStatus) bool {
	if !m.is(TypeMWCBStatus, &d.Header) {
		return false
	}
	d.BreachedLevel = m.b[11]
	return true
}

// IPOQuoting is 'K' (IPO quoting period update).
type IPOQuoting struct {
	Header
	Stock                Stock
	QuotationReleaseTime uint32 // seconds since midnight
	ReleaseQualifier     byte
	IPOPrice             Price4
}

// IPOQuoting decodes a 'K' message.
func (m Message) IPOQuoting(d *IPOQuoting) bool {
	if !m.is(TypeIPOQuoting, &d.Header) {
		return false
	}
	b := m.b[:28]
	d.Stock = stock(b, 11)
	d.QuotationReleaseTime = be32(b, 19)
	d.ReleaseQualifier = b[23]
	d.IPOPrice = Price4(be32(b, 24))
	return true
}

// LULDAuctionCollar is 'J'.
type LULDAuctionCollar struct {
	Header
	Stock                  Stock
	AuctionCollarReference Price4
	UpperAuctionCollar     Price4
	LowerAuctionCollar     Price4
	AuctionCollarExtension uint32
}

// LULDAuctionCollar decodes a 'J' message.
func (m Message) LULDAuctionCollar(d *LULDAuctionCollar) bool {
	if !m.is(TypeLULDAuctionCollar, &d.Header) {
		return false
	}
	b := m.b[:35]
	d.Stock = stock(b, 11)
	d.AuctionCollarReference = Price4(be32(b, 19))
	d.UpperAuctionCollar = Price4(be32(b, 23))
	d.LowerAuctionCollar = Price4(be32(b, 27))
	d.AuctionCollarExtension = be32(b, 31)
	return true
}

// OperationalHalt is 'h'. MarketCode: Q Nasdaq, B BX, X PSX; Action: H
// halted, T resumed.
type OperationalHalt struct {
	Header
	Stock      Stock
	MarketCode byte
	Action     byte
}

// OperationalHalt decodes an 'h' message.
func (m Message) OperationalHalt(d *OperationalHalt) bool {
	if !m.is(TypeOperationalHalt, &d.Header) {
		return false
	}
	d.Stock = stock(m.b, 11)
	d.MarketCode, d.Action = m.b[19], m.b[20]
	return true
}

// AddOrder is 'A', and 'F' with Attribution set (the MPID).
type AddOrder struct {
	Header
	OrderRef    uint64
	Side        byte // 'B' buy, 'S' sell
	Shares      uint32
	Stock       Stock
	Price       Price4
	Attribution [4]byte // 'F' only; zero for 'A'
}

// AddOrder decodes an 'A' or 'F' message.
func (m Message) AddOrder(d *AddOrder) bool {
	if len(m.b) == 0 || (m.b[0] != TypeAddOrder && m.b[0] != TypeAddOrderMPID) {
		return false
	}
	d.Header = m.Header()
	b := m.b[:36]
	d.OrderRef = be64(b, 11)
	d.Side = b[19]
	d.Shares = be32(b, 20)
	d.Stock = stock(b, 24)
	d.Price = Price4(be32(b, 32))
	d.Attribution = [4]byte{}
	if m.b[0] == TypeAddOrderMPID {
		copy(d.Attribution[:], m.b[36:40])
	}
	return true
}

// OrderExecuted is 'E', and 'C' with Printable and Price set.
type OrderExecuted struct {
	Header
	OrderRef       uint64
	ExecutedShares uint32
	MatchNumber    uint64
	Printable      byte   // 'C' only: 'Y' or 'N'; 'Y' for 'E'
	Price          Price4 // 'C' only: the execution price; 0 for 'E' (the order's price)
}

// OrderExecuted decodes an 'E' or 'C' message.
func (m Message) OrderExecuted(d *OrderExecuted) bool {
	if len(m.b) == 0 || (m.b[0] != TypeOrderExecuted && m.b[0] != TypeOrderExecutedPrice) {
		return false
	}
	d.Header = m.Header()
	b := m.b[:31]
	d.OrderRef = be64(b, 11)
	d.ExecutedShares = be32(b, 19)
	d.MatchNumber = be64(b, 23)
	d.Printable, d.Price = 'Y', 0
	if m.b[0] == TypeOrderExecutedPrice {
		d.Printable = m.b[31]
		d.Price = Price4(be32(m.b, 32))
	}
	return true
}

// OrderCancel is 'X' (a partial cancel).
type OrderCancel struct {
	Header
	OrderRef        uint64
	CancelledShares uint32
}

// OrderCancel decodes an 'X' message.
func (m Message) OrderCancel(d *OrderCancel) bool {
	if !m.is(TypeOrderCancel, &d.Header) {
		return false
	}
	d.OrderRef = be64(m.b, 11)
	d.CancelledShares = be32(m.b, 19)
	return true
}

// OrderDelete is 'D'.
type OrderDelete struct {
	Header
	OrderRef uint64
}

// OrderDelete decodes a 'D' message.
func (m Message) OrderDelete(d *OrderDelete) bool {
	if !m.is(TypeOrderDelete, &d.Header) {
		return false
	}
	d.OrderRef = be64(m.b, 11)
	return true
}

// OrderReplace is 'U': the original order leaves the book and a new one,
// on the same side, takes its place under a new reference.
type OrderReplace struct {
	Header
	OriginalRef uint64
	NewRef      uint64
	Shares      uint32
	Price       Price4
}

// OrderReplace decodes a 'U' message.
func (m Message) OrderReplace(d *OrderReplace) bool {
	if !m.is(TypeOrderReplace, &d.Header) {
		return false
	}
	b := m.b[:35]
	d.OriginalRef = be64(b, 11)
	d.NewRef = be64(b, 19)
	d.Shares = be32(b, 27)
	d.Price = Price4(be32(b, 31))
	return true
}

// Trade is 'P', a match of a non-displayed order. Side is always 'B' since
// 2014 (the specification says so): it does not tell the aggressor.
type Trade struct {
	Header
	OrderRef    uint64
	Side        byte
	Shares      uint32
	Stock       Stock
	Price       Price4
	MatchNumber uint64
}

// Trade decodes a 'P' message.
func (m Message) Trade(d *Trade) bool {
	if !m.is(TypeTrade, &d.Header) {
		return false
	}
	b := m.b[:44]
	d.OrderRef = be64(b, 11)
	d.Side = b[19]
	d.Shares = be32(b, 20)
	d.Stock = stock(b, 24)
	d.Price = Price4(be32(b, 32))
	d.MatchNumber = be64(b, 36)
	return true
}

// CrossTrade is 'Q'. CrossType: O opening, C closing, H halt/IPO, I
// intraday/extended hours.
type CrossTrade struct {
	Header
	Shares      uint64
	Stock       Stock
	CrossPrice  Price4
	MatchNumber uint64
	CrossType   byte
}

// CrossTrade decodes a 'Q' message.
func (m Message) CrossTrade(d *CrossTrade) bool {
	if !m.is(TypeCrossTrade, &d.Header) {
		return false
	}
	b := m.b[:40]
	d.Shares = be64(b, 11)
	d.Stock = stock(b, 19)
	d.CrossPrice = Price4(be32(b, 27))
	d.MatchNumber = be64(b, 31)
	d.CrossType = b[39]
	return true
}

// BrokenTrade is 'B'.
type BrokenTrade struct {
	Header
	MatchNumber uint64
}

// BrokenTrade decodes a 'B' message.
func (m Message) BrokenTrade(d *BrokenTrade) bool {
	if !m.is(TypeBrokenTrade, &d.Header) {
		return false
	}
	d.MatchNumber = be64(m.b, 11)
	return true
}

// NOII is 'I' (net order imbalance indicator).
type NOII struct {
	Header
	PairedShares            uint64
	ImbalanceShares         uint64
	ImbalanceDirection      byte
	Stock                   Stock
	FarPrice                Price4
	NearPrice               Price4
	CurrentReferencePrice   Price4
	CrossType               byte
	PriceVariationIndicator byte
}

// NOII decodes an 'I' message.
func (m Message) NOII(d *NOII) bool {
	if !m.is(TypeNOII, &d.Header) {
		return false
	}
	b := m.b[:50]
	d.PairedShares = be64(b, 11)
	d.ImbalanceShares = be64(b, 19)
	d.ImbalanceDirection = b[27]
	d.Stock = stock(b, 28)
	d.FarPrice = Price4(be32(b, 36))
	d.NearPrice = Price4(be32(b, 40))
	d.CurrentReferencePrice = Price4(be32(b, 44))
	d.CrossType, d.PriceVariationIndicator = b[48], b[49]
	return true
}

// RetailPriceImprovement is 'N'.
type RetailPriceImprovement struct {
	Header
	Stock        Stock
	InterestFlag byte // B buy side, S sell side, A both, N none
}

// RetailPriceImprovement decodes an 'N' message.
func (m Message) RetailPriceImprovement(d *RetailPriceImprovement) bool {
	if !m.is(TypeRetailPriceImprove, &d.Header) {
		return false
	}
	d.Stock = stock(m.b, 11)
	d.InterestFlag = m.b[19]
	return true
}

// DLCRPriceDiscovery is 'O' (direct listing with capital raise).
type DLCRPriceDiscovery struct {
	Header
	Stock                 Stock
	OpenEligibilityStatus byte
	MinAllowablePrice     Price4
	MaxAllowablePrice     Price4
	NearExecutionPrice    Price4
	NearExecutionTime     uint64
	LowerPriceRangeCollar Price4
	UpperPriceRangeCollar Price4
}

// DLCRPriceDiscovery decodes an 'O' message.
func (m Message) DLCRPriceDiscovery(d *DLCRPriceDiscovery) bool {
	if !m.is(TypeDLCRPriceDiscovery, &d.Header) {
		return false
	}
	b := m.b[:48]
	d.Stock = stock(b, 11)
	d.OpenEligibilityStatus = b[19]
	d.MinAllowablePrice = Price4(be32(b, 20))
	d.MaxAllowablePrice = Price4(be32(b, 24))
	d.NearExecutionPrice = Price4(be32(b, 28))
	d.NearExecutionTime = be64(b, 32)
	d.LowerPriceRangeCollar = Price4(be32(b, 40))
	d.UpperPriceRangeCollar = Price4(be32(b, 44))
	return true
}
