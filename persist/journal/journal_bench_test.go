package journal

import (
	"bufio"
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// tickSize is the size of a benchmark record: a market tick of 13 8-byte
// words, laid out as below.
const tickSize = 104

// benchTicks returns n ticks of 16 instruments whose prices walk by a few
// ticks, with event times 1..2000 ns apart, receive times 5..20 µs later,
// a sequence number, sizes, a quote, and order ids: realistic entropy for
// zstd, neither zeros nor noise.
func benchTicks(n int) [][]byte {
	const priceTick = 10_000_000 // 0.01 in 1e-9 units
	var mids [16]int64
	for i := range mids {
		mids[i] = int64(50+i*13) * 1_000_000_000
	}
	rng := uint64(42)
	next := func() uint64 { rng = splitmix(rng); return rng }
	ts := uint64(1_700_000_000_000_000_000)
	orderID := uint64(6_000_000_000)
	out := make([][]byte, n)
	buf := make([]byte, n*tickSize)
	for i := range out {
		r := next()
		inst := int(r % 16)
		mids[inst] += (int64(r>>8%7) - 3) * priceTick
		ts += 1 + r>>16%2000
		orderID += 1 + r>>32%50
		side := byte('B')
		if r>>40&1 == 1 {
			side = 'A'
		}
		spread := int64(1+r>>41%3) * priceTick
		b := buf[i*tickSize : i*tickSize : (i+1)*tickSize]
		b = binary.LittleEndian.AppendUint64(b, ts)                                            // ts_event
		b = binary.LittleEndian.AppendUint64(b, ts+5000+r>>44%15000)                           // ts_recv
		b = binary.LittleEndian.AppendUint64(b, uint64(i))                                     // sequence
		b = binary.LittleEndian.AppendUint32(b, uint32(1000+inst))                             // instrument id
		b = binary.LittleEndian.AppendUint16(b, uint16(0x80|r>>50%2<<6))                       // flags
		b = append(b, side, "ACMT"[r>>52%4])                                                   // side, action
		b = binary.LittleEndian.AppendUint64(b, uint64(mids[inst]))                            // price
		b = binary.LittleEndian.AppendUint64(b, 1+r>>20%500)                                   // size
		b = binary.LittleEndian.AppendUint64(b, uint64(mids[inst]-spread/2))                   // bid px
		b = binary.LittleEndian.AppendUint64(b, uint64(mids[inst]+spread/2))                   // ask px
		b = binary.LittleEndian.AppendUint32(b, uint32(1+next()%2000))                         // bid size
		b = binary.LittleEndian.AppendUint32(b, uint32(1+next()%2000))                         // ask size
		b = binary.LittleEndian.AppendUint32(b, uint32(1+r>>24%40))                            // bid count
		b = binary.LittleEndian.AppendUint32(b, uint32(1+r>>28%40))                            // ask count
		b = binary.LittleEndian.AppendUint64(b, uint64(mids[inst]+int64(r>>54%3-1)*priceTick)) // trade px
		b = binary.LittleEndian.AppendUint64(b, 1+r>>56%100)                                   // trade qty
		b = binary.LittleEndian.AppendUint64(b, orderID)                                       // order id
		if len(b) != tickSize {
			panic("tick layout")
		}
		out[i] = b
	}
	return out
}

const (
	benchTickCount = 1 << 16 // 6.8 MB of distinct ticks, cycled
	benchFlushSize = 64 << 10
)

// BenchmarkAppend: 104-byte ticks through Append, Flush every 64 KiB of
// records, fsync "never". Compare with BenchmarkPlainWrite.
func BenchmarkAppend(b *testing.B) {
	ticks := benchTicks(benchTickCount)
	for _, comp := range []string{CompressionZstd, CompressionS2, CompressionNone} {
		b.Run(comp, func(b *testing.B) {
			benchAppend(b, ticks, Options{Compression: comp}, benchFlushSize)
		})
	}
}

// BenchmarkZstdTradeoff: the zstd levels against block sizes, same load,
// with Flush every block (so a block is BlockBytes of records).
func BenchmarkZstdTradeoff(b *testing.B) {
	ticks := benchTicks(benchTickCount)
	for _, block := range []int{16 << 10, 64 << 10, 256 << 10} {
		for level := 1; level <= 4; level++ {
			b.Run("block="+strconv.Itoa(block>>10)+"KiB/level="+strconv.Itoa(level), func(b *testing.B) {
				benchAppend(b, ticks, Options{Compression: CompressionZstd, Level: level, BlockBytes: block}, block)
			})
		}
	}
}

func benchAppend(b *testing.B, ticks [][]byte, opts Options, flushBytes int) {
	opts.Dir = b.TempDir()
	opts.Fsync = FsyncNever
	j, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	writeTicks(b, ticks, flushBytes, func(p []byte) error {
		_, err := j.Append(1, p)
		return err
	}, j.Flush)
	b.StopTimer()
	st := j.Stats()
	if st.RawBytes > 0 {
		b.ReportMetric(float64(st.StoredBytes)/float64(st.RawBytes), "stored/raw")
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPlainWrite: the baseline — the same records, length-prefixed
// as in a block ([u32 length][u8 kind][payload]), through a 64 KiB
// bufio.Writer on one *os.File, flushed every 64 KiB.
func BenchmarkPlainWrite(b *testing.B) {
	ticks := benchTicks(benchTickCount)
	f, err := os.Create(filepath.Join(b.TempDir(), "plain"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, benchFlushSize)
	var hdr [recordHeaderSize]byte
	writeTicks(b, ticks, benchFlushSize, func(p []byte) error {
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(p)))
		hdr[4] = 1
		w.Write(hdr[:])
		_, err := w.Write(p)
		return err
	}, w.Flush)
}

// writeTicks times b.N writes of the ticks, cycled, with flush after every
// flushBytes of records and at the end.
func writeTicks(b *testing.B, ticks [][]byte, flushBytes int, write func(p []byte) error, flush func() error) {
	perFlush := flushBytes / (recordHeaderSize + tickSize)
	b.SetBytes(tickSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := write(ticks[i&(benchTickCount-1)]); err != nil {
			b.Fatal(err)
		}
		if i%perFlush == perFlush-1 {
			if err := flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAppendBackground: the same load through the background writer
// (Submit every 64 KiB, Flush at the end, so the time covers every record
// written), zstd, against the inline writer in the same run: compressors=0
// is the baseline. With n compressors the appending goroutine only copies;
// throughput is then bounded by the compressors and the cores free for them.
func BenchmarkAppendBackground(b *testing.B) {
	ticks := benchTicks(benchTickCount)
	for _, n := range []int{0, 1, 2} {
		b.Run("compressors="+strconv.Itoa(n), func(b *testing.B) {
			opts := Options{Dir: b.TempDir(), Compression: CompressionZstd, Fsync: FsyncNever, Compressors: n}
			j, err := Open(opts)
			if err != nil {
				b.Fatal(err)
			}
			writeTicks(b, ticks, benchFlushSize, func(p []byte) error {
				_, err := j.Append(1, p)
				return err
			}, j.Submit)
			if err := j.Flush(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(j.Stats().BlockWaits)/float64(b.N), "waits/op")
			if err := j.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}
