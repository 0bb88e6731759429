package engine

import (
	"encoding/binary"
	"fmt"

	"thunderline/hotpath/record"
)

// The market records of a run's journal that this package encodes itself
// (the kinds are in runjournal): a symbol's name, and an in-band control.

func appendSymbol(dst []byte, id uint32, name string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, id)
	return append(dst, name...)
}

func decodeSymbol(b []byte) (uint32, string, error) {
	if len(b) < 5 || len(b) > 4+255 {
		return 0, "", fmt.Errorf("symbol record of %d bytes: want 5 to 259", len(b))
	}
	return binary.LittleEndian.Uint32(b), string(b[4:]), nil
}

// appendControl encodes an in-band control: u8 type, u64 argument (Seq),
// i64 boundary (TsEvent), i64 value (Price), u32 value (Size), u16 channel
// (Venue: the feed channel of a sequence event, ControlGap, ControlRequest,
// ControlLost; 0 otherwise). Journals written before feeds had channels
// hold the first 29 bytes only: channel 0.
func appendControl(dst []byte, t *record.MarketTick) []byte {
	dst = append(dst, t.Action)
	dst = binary.LittleEndian.AppendUint64(dst, t.Seq)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(t.TsEvent))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(t.Price))
	dst = binary.LittleEndian.AppendUint32(dst, t.Size)
	return binary.LittleEndian.AppendUint16(dst, t.Venue)
}

func decodeControl(b []byte, t *record.MarketTick) error {
	if len(b) != 29 && len(b) != 31 {
		return fmt.Errorf("control record of %d bytes, want 31 (or 29, without a channel)", len(b))
	}
	*t = record.MarketTick{Kind: record.KindControl, Action: b[0], Seq: binary.LittleEndian.Uint64(b[1:]),
		TsEvent: int64(binary.LittleEndian.Uint64(b[9:])), Price: int64(binary.LittleEndian.Uint64(b[17:])),
		Size: binary.LittleEndian.Uint32(b[25:])}
	if len(b) == 31 {
		t.Venue = binary.LittleEndian.Uint16(b[29:])
	}
	switch t.Action {
	case record.ControlRouter, record.ControlRecipe, record.ControlWindow, record.ControlOperator, record.ControlHalt,
		record.ControlGap, record.ControlRequest, record.ControlLost:
		return nil
	}
	return fmt.Errorf("control record of unknown type %q", t.Action)
}
