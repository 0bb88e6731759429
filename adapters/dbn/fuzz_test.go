package dbn

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"thunderline/hotpath/record"
)

// fuzzSeeds returns the self-contained seeds: the testdata samples (plain
// and decompressed), small Writer streams, and mutated headers.
func fuzzSeeds(f *testing.F) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "test_data.*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("testdata samples: %v", err)
	}
	var seeds [][]byte
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b, decompressed(f, b))
	}
	recs := sampleRecords()
	recs = append(recs, definitionRecord(3, 1, 300, tsDay1, "CLG4"))
	seeds = append(seeds, writeStream(f, testMetadata(3), false, recs...))
	md := testMetadata(2)
	md.TsOut = true
	seeds = append(seeds, writeStream(f, md, false, recs[:6]...))
	seeds = append(seeds, writeStream(f, testMetadata(2), true, recs[:6]...))

	v2, err := os.ReadFile(filepath.Join("testdata", "test_data.mbo.dbn"))
	if err != nil {
		f.Fatal(err)
	}
	mutate := func(fn func(b []byte) []byte) {
		seeds = append(seeds, fn(bytes.Clone(v2)))
	}
	for v := byte(0); v <= 4; v++ {
		mutate(func(b []byte) []byte { b[3] = v; return b })
	}
	mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 0xFFFFFFFF); return b })
	mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4:], 10); return b })
	mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[prefixLen+45:], 0); return b })
	mutate(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[prefixLen+45:], 22); return b })
	mutate(func(b []byte) []byte { b[prefixLen+44] = 1; return b }) // ts_out on
	mutate(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[prefixLen+104:], 1<<20); return b })
	mutate(func(b []byte) []byte { b[len(b)-mboLen] = 0; return b })
	mutate(func(b []byte) []byte { b[len(b)-mboLen+1] = byte(RTypeSymbolMapping); return b })
	mutate(func(b []byte) []byte { b[len(b)-mboLen+1] = byte(RTypeMBP10); return b })
	mutate(func(b []byte) []byte { return b[:len(b)-7] })
	seeds = append(seeds, nil, []byte("DBN"), zstdMagic[:])
	// A .dbn.zst declaring 1 GiB of metadata, and one declaring just over
	// the default limit, both holding far less.
	seeds = append(seeds, hugeMetadata(f, 1<<30, 1<<16), hugeMetadata(f, DefaultMaxMetadataLen+1, 1<<10))
	return seeds
}

// checkErr fails unless err is io.EOF or an *Error.
func checkErr(t *testing.T, err error) {
	var e *Error
	if err != io.EOF && !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is neither io.EOF nor *Error", err, err)
	}
	if e != nil && e.Error() == "" {
		t.Fatal("empty message")
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			checkErr(t, err)
			return
		}
		defer r.Close()
		for range 100_000 {
			rec, err := r.Next()
			if err != nil {
				checkErr(t, err)
				return
			}
			if rec.Len() < headerLen || rec.Len()%4 != 0 || rec.Len() > maxRecordLen {
				t.Fatalf("record length %d", rec.Len())
			}
			// Every decoder must be safe on every record.
			_ = rec.Header()
			_, _ = rec.TsOut()
			var mbo MBOMsg
			var ev BookEvent
			var m1 MBP1Msg
			var m10 MBP10Msg
			var lvl BidAskPair
			var def InstrumentDefMsg
			var sm SymbolMappingMsg
			_ = rec.MBO(&mbo)
			_ = rec.Trade(&ev)
			_ = rec.MBP1(&m1)
			_ = rec.MBP10(&m10)
			_ = rec.Level(3, &lvl)
			_ = rec.InstrumentDef(&def)
			_ = rec.SymbolMapping(&sm)
			_, _ = rec.Message()
		}
	})
}

func FuzzSource(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			checkErr(t, err)
			return
		}
		defer r.Close()
		syms := record.NewSymbols()
		s := NewSource(r, syms, SourceOptions{Strict: strict})
		dst := make([]record.MarketTick, MaxTicksPerRecord)
		for range 100_000 {
			n, err := s.Next(dst)
			if err != nil {
				checkErr(t, err)
				if n != 0 {
					t.Fatalf("%d ticks with error %v", n, err)
				}
				return
			}
			if n == 0 || n > len(dst) {
				t.Fatalf("%d ticks", n)
			}
			for _, tk := range dst[:n] {
				if tk.Kind < record.KindQuote || tk.Kind > record.KindClear || tk.InSeq != 0 {
					t.Fatalf("tick %+v", tk)
				}
				if tk.Symbol == 0 && !strict || tk.Symbol != 0 && !syms.Known(tk.Symbol) {
					t.Fatalf("symbol %d", tk.Symbol)
				}
			}
		}
	})
}
