package itch

import (
	"encoding/binary"
	"fmt"
)

// Message types of TotalView-ITCH 5.0, by their type byte.
const (
	TypeSystemEvent          byte = 'S'
	TypeStockDirectory       byte = 'R'
	TypeTradingAction        byte = 'H'
	TypeRegSHO               byte = 'Y'
	TypeMarketParticipantPos byte = 'L'
	TypeMWCBDecline          byte = 'V'
	TypeMWCBStatus           byte = 'W'
	TypeIPOQuoting           byte = 'K'
	TypeLULDAuctionCollar    byte = 'J'
	TypeOperationalHalt      byte = 'h'
	TypeAddOrder             byte = 'A'
	TypeAddOrderMPID         byte = 'F'
	TypeOrderExecuted        byte = 'E'
	TypeOrderExecutedPrice   byte = 'C'
	TypeOrderCancel          byte = 'X'
	TypeOrderDelete          byte = 'D'
	TypeOrderReplace         byte = 'U'
	TypeTrade                byte = 'P'
	TypeCrossTrade           byte = 'Q'
	TypeBrokenTrade          byte = 'B'
	TypeNOII                 byte = 'I'
	TypeRetailPriceImprove   byte = 'N'
	TypeDLCRPriceDiscovery   byte = 'O'
	headerLen                     = 11 // type, locate, tracking, timestamp
	maxMessageLen                 = 50 // NOII
)

// Types lists every message type, in the order of the specification.
var Types = [...]byte{'S', 'R', 'H', 'Y', 'L', 'V', 'W', 'K', 'J', 'h', 'A', 'F', 'E', 'C', 'X', 'D', 'U', 'P', 'Q', 'B', 'I', 'N', 'O'}

// lengths holds each type's fixed length (type byte included); 0 marks a
// byte that is not a message type.
var lengths = [256]uint8{
	'S': 12, 'R': 39, 'H': 25, 'Y': 20, 'L': 26, 'V': 35, 'W': 12, 'K': 28,
	'J': 35, 'h': 21, 'A': 36, 'F': 40, 'E': 31, 'C': 36, 'X': 23, 'D': 19,
	'U': 35, 'P': 44, 'Q': 40, 'B': 19, 'I': 50, 'N': 20, 'O': 48,
}

var typeNames = [256]string{
	'S': "system_event", 'R': "stock_directory", 'H': "trading_action", 'Y': "reg_sho",
	'L': "market_participant_position", 'V': "mwcb_decline_level", 'W': "mwcb_status",
	'K': "ipo_quoting_period", 'J': "luld_auction_collar", 'h': "operational_halt",
	'A': "add_order", 'F': "add_order_mpid", 'E': "order_executed", 'C': "order_executed_price",
	'X': "order_cancel", 'D': "order_delete", 'U': "order_replace", 'P': "trade",
	'Q': "cross_trade", 'B': "broken_trade", 'I': "noii", 'N': "retail_price_improvement",
	'O': "dlcr_price_discovery",
}

// Length returns the fixed length of message type t (type byte included),
// or 0 if t is not an ITCH 5.0 type.
func Length(t byte) int { return int(lengths[t]) }

// TypeName names type t, for example "A (add_order)"; an unknown byte is
// given in hex.
func TypeName(t byte) string {
	if typeNames[t] == "" {
		return fmt.Sprintf("0x%02x (unknown)", t)
	}
	return string(t) + " (" + typeNames[t] + ")"
}

// Message is a view of one whole, length-checked ITCH message: the bytes
// are the reader's and are valid until its next call. The typed decoders
// (AddOrder, OrderReplace, ...) fill a caller-owned struct and never
// allocate.
type Message struct{ b []byte }

// Parse checks b as one message (type byte first, no length prefix): the
// type must be an ITCH 5.0 type and len(b) its fixed length. The returned
// view shares b.
func Parse(b []byte) (Message, error) { return parseAt(b, 0) }

func parseAt(b []byte, off int64) (Message, error) {
	if len(b) == 0 {
		return Message{}, &Error{Offset: off, Type: -1, Length: 0, Err: ErrBadLength, Detail: "empty message"}
	}
	want := int(lengths[b[0]])
	if want == 0 {
		return Message{}, &Error{Offset: off, Type: int(b[0]), Length: len(b), Err: ErrUnknownType}
	}
	if len(b) != want {
		return Message{}, &Error{Offset: off, Type: int(b[0]), Length: len(b), Err: ErrBadLength,
			Detail: fmt.Sprintf("want %d bytes", want)}
	}
	return Message{b: b}, nil
}

// Bytes returns the message bytes (a view).
func (m Message) Bytes() []byte { return m.b }

// Type returns the message type byte.
func (m Message) Type() byte { return m.b[0] }

// Locate returns the stock locate code (0 for market-wide messages).
func (m Message) Locate() uint16 { return be16(m.b, 1) }

// Tracking returns the Nasdaq internal tracking number.
func (m Message) Tracking() uint16 { return be16(m.b, 3) }

// Timestamp returns nanoseconds since midnight (Eastern time) of the
// session's day: a 6-byte big-endian integer.
func (m Message) Timestamp() int64 { return be48(m.b, 5) }

func be16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }
func be32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }
func be64(b []byte, off int) uint64 { return binary.BigEndian.Uint64(b[off:]) }

func be48(b []byte, off int) int64 {
	b = b[off : off+6]
	return int64(b[0])<<40 | int64(b[1])<<32 | int64(b[2])<<24 | int64(b[3])<<16 | int64(b[4])<<8 | int64(b[5])
}

// Price4 is an ITCH price: 4 implied decimals (1e-4 dollars).
type Price4 uint32

// Nanos returns p in the engine's price units (1e-9, record.PriceScale).
func (p Price4) Nanos() int64 { return int64(p) * 100_000 }

// Price8 is an 8-decimal price (the MWCB decline levels).
type Price8 uint64

// Stock is an 8-byte, space-padded stock symbol.
type Stock [8]byte

// String returns the symbol with its padding trimmed.
func (s Stock) String() string { return string(s.Trimmed()) }

// Trimmed returns the symbol without trailing spaces (and NULs), as a slice
// of s.
func (s *Stock) Trimmed() []byte {
	n := len(s)
	for n > 0 && (s[n-1] == ' ' || s[n-1] == 0) {
		n--
	}
	return s[:n]
}
