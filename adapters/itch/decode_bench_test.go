package itch

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"thunderline/hotpath/alloctest"
	"thunderline/hotpath/record"
)

// sampleFrames reads the 2019-12-30 excerpt (stock directory and the open)
// into memory: its framed bytes and each message's bounds.
func sampleFrames(b *testing.B) ([]byte, [][2]int) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "12302019_SNIPPET.NASDAQ_ITCH50"))
	if err != nil {
		b.Fatal(err)
	}
	var at [][2]int
	for off := 0; off+2 <= len(raw); {
		l := int(binary.BigEndian.Uint16(raw[off:]))
		at = append(at, [2]int{off + 2, off + 2 + l})
		off += 2 + l
	}
	return raw, at
}

// BenchmarkParse decodes every message of the sample (Parse: type, length
// and fields checked), per message; BenchmarkCopyMessages, the baseline of
// the same run, copies each message's bytes.
func BenchmarkParse(b *testing.B) {
	raw, at := sampleFrames(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)) / int64(len(at)))
	var sink uint64
	for i := 0; b.Loop(); i++ {
		x := at[i%len(at)]
		m, err := Parse(raw[x[0]:x[1]])
		if err != nil {
			b.Fatal(err)
		}
		sink += uint64(m.Timestamp())
	}
	_ = sink
}

func BenchmarkCopyMessages(b *testing.B) {
	raw, at := sampleFrames(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)) / int64(len(at)))
	var buf [64]byte
	var sink uint64
	for i := 0; b.Loop(); i++ {
		x := at[i%len(at)]
		n := copy(buf[:], raw[x[0]:x[1]])
		sink += uint64(buf[n-1])
	}
	_ = sink
}

// BenchmarkSourceTicks reads the sample through FileReader and Source
// (framing, decoding, the symbol table, orders by reference, books'
// ticks), per message; a new Source per pass is set up off the clock.
func BenchmarkSourceTicks(b *testing.B) {
	raw, at := sampleFrames(b)
	dst := make([]record.MarketTick, 256)
	b.ReportAllocs()
	var busy int64
	for range b.N {
		b.StopTimer()
		src := NewSource(NewFileReader(bytes.NewReader(raw)), record.NewSymbols(), SourceOptions{Date: DayOf(1577664000e9)})
		b.StartTimer()
		for {
			n, err := src.Next(dst)
			if n == 0 || err != nil {
				break
			}
		}
	}
	busy = b.Elapsed().Nanoseconds()
	b.ReportMetric(float64(busy)/float64(b.N*len(at)), "ns/msg")
}

// TestSourceNoAllocsPerMessage: once a Source knows the symbols and its
// order table has grown, reading messages allocates nothing — the sample
// read again and again through the same Source (its 1,000 messages: adds,
// executions, replaces, deletes, trades) makes no allocation at all.
func TestSourceNoAllocsPerMessage(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "12302019_SNIPPET.NASDAQ_ITCH50"))
	if err != nil {
		t.Fatal(err)
	}
	rd := bytes.NewReader(raw)
	fr := NewFileReader(rd)
	src := NewSource(fr, record.NewSymbols(), SourceOptions{Date: DayOf(1577664000e9)})
	dst := make([]record.MarketTick, 256)
	pass := func() {
		rd.Reset(raw)
		fr.r.Reset(rd)
		src.err = nil
		for {
			n, err := src.Next(dst)
			if n == 0 || err != nil {
				break
			}
		}
	}
	pass() // the first pass binds the symbols and grows the tables
	if n := alloctest.Count(20, pass); n != 0 {
		t.Fatalf("%d allocations over 20 passes of 1,000 messages: want 0", n)
	}
	if src.Counts().Ticks == 0 {
		t.Fatal("no ticks")
	}
}
