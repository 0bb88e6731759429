package dbn

import (
	"bytes"
	"io"
	"testing"

	dbngo "github.com/NimbleMarkets/dbn-go"

	"thunderline/hotpath/record"
)

const synthRecords = 1_000_000

// synthData is made once per test binary; benchmarks run one at a time.
var synthData []byte

func synth(b *testing.B) []byte {
	if synthData == nil {
		synthData = synthMBO(b, 2, synthRecords)
	}
	return synthData
}

// mboInputs are the benchmark inputs: the real ESH4 session (decompressed
// into memory first) and a larger stream made with Writer.
func mboInputs(b *testing.B) []struct {
	name    string
	data    []byte
	records int
} {
	return []struct {
		name    string
		data    []byte
		records int
	}{
		{"esh4", decompressed(b, readShared(b, esh4File)), 8725},
		{"synth1M", synth(b), synthRecords},
	}
}

func BenchmarkReaderMBO(b *testing.B) {
	for _, in := range mboInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			var sum int64
			var m MBOMsg
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(in.data))
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					rec, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rec.MBO(&m)
					sum += m.Price
					n++
				}
				if n != in.records {
					b.Fatalf("%d records", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.records), "ns/record")
			_ = sum
		})
	}
}

// BenchmarkReaderMBOZstd includes decompression, from the stored file.
func BenchmarkReaderMBOZstd(b *testing.B) {
	comp := readShared(b, esh4File)
	b.ReportAllocs()
	b.SetBytes(int64(len(decompressed(b, comp))))
	for b.Loop() {
		if _, err := countRecords(bytes.NewReader(comp)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*8725), "ns/record")
}

// BenchmarkDbnGoMBO decodes the same bytes with dbn-go v0.6.0: "decode" is
// its generic DbnScannerDecode (one allocation per record), "fillraw" reuses
// one MboMsg, its fastest path.
func BenchmarkDbnGoMBO(b *testing.B) {
	for _, in := range mboInputs(b) {
		for _, mode := range []string{"decode", "fillraw"} {
			b.Run(in.name+"/"+mode, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(in.data)))
				var sum int64
				var m dbngo.MboMsg
				for b.Loop() {
					sc := dbngo.NewDbnScanner(bytes.NewReader(in.data))
					n := 0
					for sc.Next() {
						if mode == "decode" {
							p, err := dbngo.DbnScannerDecode[dbngo.MboMsg](sc)
							if err != nil {
								b.Fatal(err)
							}
							sum += p.Price
						} else {
							if err := m.Fill_Raw(sc.GetLastRecord()); err != nil {
								b.Fatal(err)
							}
							sum += m.Price
						}
						n++
					}
					if n != in.records {
						b.Fatalf("%d records (%v)", n, sc.Error())
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.records), "ns/record")
				_ = sum
			})
		}
	}
}

// BenchmarkSourceMBO decodes and converts to ticks.
func BenchmarkSourceMBO(b *testing.B) {
	for _, in := range mboInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			syms := record.NewSymbols()
			dst := make([]record.MarketTick, 256)
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(in.data))
				if err != nil {
					b.Fatal(err)
				}
				s := NewSource(r, syms, SourceOptions{})
				ticks := 0
				for {
					n, err := s.Next(dst)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					ticks += n
				}
				if ticks != in.records {
					b.Fatalf("%d ticks", ticks)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*in.records), "ns/record")
		})
	}
}
