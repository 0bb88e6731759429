package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Tick and reject encodings, as the journal stores them: fixed width,
// little endian, field by field (never the in-memory layout, which the
// compiler owns). Changing them changes every replayed hash.
const (
	// EncodedTickSize is the size of an encoded tick.
	EncodedTickSize = 5*8 + 4*8 + 4*4 + 4 + 2 + 2 + 4
	// EncodedRejectSize is the size of an encoded reject.
	EncodedRejectSize = EncodedTickSize + 1 + 8
)

// ErrBadRecord is wrapped by every decoding error of this package.
var ErrBadRecord = errors.New("bad tick record")

// AppendTick appends the encoding of t to dst.
func AppendTick(dst []byte, t *MarketTick) []byte {
	le := binary.LittleEndian
	dst = le.AppendUint64(dst, uint64(t.TsEvent))
	dst = le.AppendUint64(dst, uint64(t.TsRecv))
	dst = le.AppendUint64(dst, t.Seq)
	dst = le.AppendUint64(dst, t.InSeq)
	dst = le.AppendUint64(dst, t.OrderID)
	dst = le.AppendUint64(dst, uint64(t.BidPx))
	dst = le.AppendUint64(dst, uint64(t.AskPx))
	dst = le.AppendUint64(dst, uint64(t.TradePx))
	dst = le.AppendUint64(dst, uint64(t.Price))
	dst = le.AppendUint32(dst, t.BidQty)
	dst = le.AppendUint32(dst, t.AskQty)
	dst = le.AppendUint32(dst, t.TradeQty)
	dst = le.AppendUint32(dst, t.Size)
	dst = le.AppendUint32(dst, t.Symbol)
	dst = le.AppendUint16(dst, t.Venue)
	dst = le.AppendUint16(dst, t.Flags)
	return append(dst, byte(t.Kind), t.Action, t.Side, t.Depth)
}

// DecodeTick decodes an encoded tick into t.
func DecodeTick(b []byte, t *MarketTick) error {
	if len(b) != EncodedTickSize {
		return fmt.Errorf("%w: %d bytes, want %d", ErrBadRecord, len(b), EncodedTickSize)
	}
	le := binary.LittleEndian
	*t = MarketTick{
		TsEvent: int64(le.Uint64(b[0:])), TsRecv: int64(le.Uint64(b[8:])), Seq: le.Uint64(b[16:]),
		InSeq: le.Uint64(b[24:]), OrderID: le.Uint64(b[32:]), BidPx: int64(le.Uint64(b[40:])),
		AskPx: int64(le.Uint64(b[48:])), TradePx: int64(le.Uint64(b[56:])), Price: int64(le.Uint64(b[64:])),
		BidQty: le.Uint32(b[72:]), AskQty: le.Uint32(b[76:]), TradeQty: le.Uint32(b[80:]), Size: le.Uint32(b[84:]),
		Symbol: le.Uint32(b[88:]), Venue: le.Uint16(b[92:]), Flags: le.Uint16(b[94:]),
		Kind: Kind(b[96]), Action: b[97], Side: b[98], Depth: b[99],
	}
	if t.Kind < KindQuote || t.Kind > KindClear {
		return fmt.Errorf("%w: kind %d", ErrBadRecord, t.Kind)
	}
	return nil
}

// AppendReject appends the encoding of r to dst.
func AppendReject(dst []byte, r *Reject) []byte {
	dst = AppendTick(dst, &r.Tick)
	dst = append(dst, byte(r.Reason))
	return binary.LittleEndian.AppendUint64(dst, uint64(r.Detail))
}

// DecodeReject decodes an encoded reject into r.
func DecodeReject(b []byte, r *Reject) error {
	if len(b) != EncodedRejectSize {
		return fmt.Errorf("%w: reject of %d bytes, want %d", ErrBadRecord, len(b), EncodedRejectSize)
	}
	if err := DecodeTick(b[:EncodedTickSize], &r.Tick); err != nil {
		return err
	}
	r.Reason = Reason(b[EncodedTickSize])
	r.Detail = int64(binary.LittleEndian.Uint64(b[EncodedTickSize+1:]))
	if int(r.Reason) >= NumReasons || r.Reason == ReasonNone {
		return fmt.Errorf("%w: reject reason %d", ErrBadRecord, r.Reason)
	}
	return nil
}
