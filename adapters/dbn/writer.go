package dbn

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Writer writes a DBN version 2 or 3 stream: the metadata, then MBO, MBP-1
// (or TBBO), trades, MBP-10 and symbol mapping records. It exists for tests
// and benchmarks; compress its output by wrapping w in a zstd encoder.
// Header Length and RType fields of the messages are ignored: the Writer
// sets them. Errors are sticky.
type Writer struct {
	w     *bufio.Writer
	md    Metadata
	tsOut uint64
	buf   [maxRecordLen]byte
	err   error
}

// NewWriter writes md's metadata header to w. md.Version must be 2 or 3;
// SymbolCstrLen is always written as 71, the length records use.
func NewWriter(w io.Writer, md Metadata) (*Writer, error) {
	if md.Version != 2 && md.Version != 3 {
		return nil, fmt.Errorf("dbn: new writer: version %d, can write 2 or 3", md.Version)
	}
	md.SymbolCstrLen = symbolCstrLenV2
	wr := &Writer{w: bufio.NewWriterSize(w, 64<<10), md: md}
	b, err := encodeMetadata(&md)
	if err != nil {
		return nil, err
	}
	if _, err := wr.w.Write(b); err != nil {
		return nil, fmt.Errorf("dbn: write metadata: %w", err)
	}
	return wr, nil
}

// encodeMetadata lays out the prefix and metadata, padded so that records
// start 8-byte aligned.
func encodeMetadata(md *Metadata) ([]byte, error) {
	const cl = symbolCstrLenV2
	put := func(b []byte, s, what string) error {
		if len(s) >= len(b) {
			return fmt.Errorf("dbn: write metadata: %s %q is longer than %d bytes", what, s, len(b)-1)
		}
		copy(b, s)
		return nil
	}
	le := binary.LittleEndian
	b := make([]byte, prefixLen+metaFixedLen, 1024)
	copy(b, "DBN")
	b[3] = md.Version
	f := b[prefixLen:]
	if err := put(f[:datasetCstrLen], md.Dataset, "dataset"); err != nil {
		return nil, err
	}
	le.PutUint16(f[16:], uint16(md.Schema))
	le.PutUint64(f[18:], md.Start)
	le.PutUint64(f[26:], md.End)
	le.PutUint64(f[34:], md.Limit)
	f[42], f[43] = byte(md.StypeIn), byte(md.StypeOut)
	if md.TsOut {
		f[44] = 1
	}
	le.PutUint16(f[45:], cl)
	b = le.AppendUint32(b, 0) // schema definition length
	cstr := func(s, what string) error {
		var a [cl]byte
		if err := put(a[:], s, what); err != nil {
			return err
		}
		b = append(b, a[:]...)
		return nil
	}
	for _, list := range []struct {
		name string
		v    []string
	}{{"symbol", md.Symbols}, {"partial symbol", md.Partial}, {"not-found symbol", md.NotFound}} {
		b = le.AppendUint32(b, uint32(len(list.v)))
		for _, s := range list.v {
			if err := cstr(s, list.name); err != nil {
				return nil, err
			}
		}
	}
	b = le.AppendUint32(b, uint32(len(md.Mappings)))
	for _, m := range md.Mappings {
		if err := cstr(m.RawSymbol, "mapping raw symbol"); err != nil {
			return nil, err
		}
		b = le.AppendUint32(b, uint32(len(m.Intervals)))
		for _, iv := range m.Intervals {
			b = le.AppendUint32(b, iv.StartDate)
			b = le.AppendUint32(b, iv.EndDate)
			if err := cstr(iv.Symbol, "interval symbol"); err != nil {
				return nil, err
			}
		}
	}
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	le.PutUint32(b[4:], uint32(len(b)-prefixLen))
	return b, nil
}

// SetTsOut sets the gateway send time appended to the following records
// when the metadata's TsOut is set.
func (w *Writer) SetTsOut(ns uint64) { w.tsOut = ns }

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("dbn: flush: %w", err)
	}
	return w.err
}

// header starts a record of n bytes (without ts_out) in w.buf.
func (w *Writer) header(h *Header, t RType, n int) []byte {
	b := w.buf[:n]
	clear(b)
	total := n
	if w.md.TsOut {
		total += tsOutLen
	}
	b[0] = byte(total / 4)
	b[1] = byte(t)
	binary.LittleEndian.PutUint16(b[2:], h.PublisherID)
	binary.LittleEndian.PutUint32(b[4:], h.InstrumentID)
	binary.LittleEndian.PutUint64(b[8:], h.TsEvent)
	return b
}

func (w *Writer) write(b []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.md.TsOut {
		b = binary.LittleEndian.AppendUint64(b, w.tsOut)
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("dbn: write record: %w", err)
	}
	return w.err
}

// WriteMBO writes a market-by-order record.
func (w *Writer) WriteMBO(m *MBOMsg) error {
	b := w.header(&m.Header, RTypeMBO, mboLen)
	le := binary.LittleEndian
	le.PutUint64(b[16:], m.OrderID)
	le.PutUint64(b[24:], uint64(m.Price))
	le.PutUint32(b[32:], m.Size)
	b[36], b[37], b[38], b[39] = m.Flags, m.ChannelID, m.Action, m.Side
	le.PutUint64(b[40:], m.TsRecv)
	le.PutUint32(b[48:], uint32(m.TsInDelta))
	le.PutUint32(b[52:], m.Sequence)
	return w.write(b)
}

func putBookEvent(b []byte, e *BookEvent) {
	le := binary.LittleEndian
	le.PutUint64(b[16:], uint64(e.Price))
	le.PutUint32(b[24:], e.Size)
	b[28], b[29], b[30], b[31] = e.Action, e.Side, e.Flags, e.Depth
	le.PutUint64(b[32:], e.TsRecv)
	le.PutUint32(b[40:], uint32(e.TsInDelta))
	le.PutUint32(b[44:], e.Sequence)
}

func putLevel(b []byte, off int, l *BidAskPair) {
	le := binary.LittleEndian
	le.PutUint64(b[off:], uint64(l.BidPx))
	le.PutUint64(b[off+8:], uint64(l.AskPx))
	le.PutUint32(b[off+16:], l.BidSz)
	le.PutUint32(b[off+20:], l.AskSz)
	le.PutUint32(b[off+24:], l.BidCt)
	le.PutUint32(b[off+28:], l.AskCt)
}

// WriteTrade writes a trades (MBP-0) record.
func (w *Writer) WriteTrade(m *BookEvent) error {
	b := w.header(&m.Header, RTypeMBP0, mbp0Len)
	putBookEvent(b, m)
	return w.write(b)
}

// WriteMBP1 writes an MBP-1 (or TBBO) record.
func (w *Writer) WriteMBP1(m *MBP1Msg) error {
	b := w.header(&m.Header, RTypeMBP1, mbp1Len)
	putBookEvent(b, &m.BookEvent)
	putLevel(b, mbp0Len, &m.Level)
	return w.write(b)
}

// WriteMBP10 writes an MBP-10 record.
func (w *Writer) WriteMBP10(m *MBP10Msg) error {
	b := w.header(&m.Header, RTypeMBP10, mbp10Len)
	putBookEvent(b, &m.BookEvent)
	for i := range m.Levels {
		putLevel(b, mbp0Len+i*bidAskPairLen, &m.Levels[i])
	}
	return w.write(b)
}

// WriteSymbolMapping writes a symbol mapping record in the version 2/3
// layout.
func (w *Writer) WriteSymbolMapping(m *SymbolMappingMsg) error {
	if len(m.StypeInSymbol) >= symbolCstrLenV2 || len(m.StypeOutSymbol) >= symbolCstrLenV2 {
		return fmt.Errorf("dbn: write symbol mapping: symbol longer than %d bytes", symbolCstrLenV2-1)
	}
	b := w.header(&m.Header, RTypeSymbolMapping, recordLen(w.md.Version, RTypeSymbolMapping))
	b[16] = byte(m.StypeIn)
	copy(b[17:17+symbolCstrLenV2], m.StypeInSymbol)
	b[88] = byte(m.StypeOut)
	copy(b[89:89+symbolCstrLenV2], m.StypeOutSymbol)
	binary.LittleEndian.PutUint64(b[160:], m.StartTs)
	binary.LittleEndian.PutUint64(b[168:], m.EndTs)
	return w.write(b)
}
