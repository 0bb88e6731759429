package journal

import (
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

func expBlock() []byte {
	ticks := benchTicks(601)
	var b []byte
	for _, t := range ticks {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t)))
		b = append(b, 1)
		b = append(b, t...)
	}
	return b
}

func BenchmarkExpCodec(b *testing.B) {
	blk := expBlock()
	dst := make([]byte, 0, 2*len(blk))
	for _, c := range []struct {
		name string
		opts []zstd.EOption
	}{
		{"zstd1", []zstd.EOption{zstd.WithEncoderLevel(1)}},
		{"zstd1-noentropy", []zstd.EOption{zstd.WithEncoderLevel(1), zstd.WithNoEntropyCompression(true)}},
		{"zstd2", []zstd.EOption{zstd.WithEncoderLevel(2)}},
	} {
		enc, _ := zstd.NewWriter(nil, append(c.opts, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))...)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(blk)))
			var n int
			for i := 0; i < b.N; i++ {
				n = len(enc.EncodeAll(blk, dst[:0]))
			}
			b.ReportMetric(float64(n)/float64(len(blk)), "ratio")
		})
	}
	b.Run("s2", func(b *testing.B) {
		b.SetBytes(int64(len(blk)))
		var n int
		for i := 0; i < b.N; i++ {
			n = len(s2.Encode(dst[:cap(dst)], blk))
		}
		b.ReportMetric(float64(n)/float64(len(blk)), "ratio")
	})
	b.Run("s2better", func(b *testing.B) {
		b.SetBytes(int64(len(blk)))
		var n int
		for i := 0; i < b.N; i++ {
			n = len(s2.EncodeBetter(dst[:cap(dst)], blk))
		}
		b.ReportMetric(float64(n)/float64(len(blk)), "ratio")
	})
	b.Run("memcopy", func(b *testing.B) {
		b.SetBytes(int64(len(blk)))
		for i := 0; i < b.N; i++ {
			copy(dst[:len(blk)], blk)
		}
	})
}
