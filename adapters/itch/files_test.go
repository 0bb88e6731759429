package itch

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"thunderline/hotpath/record"
)

const dataDir = "../../../shared/data/itch"

// readAll plays r through a Source and returns it after io.EOF.
func readAll(t *testing.T, r MessageReader, opts SourceOptions) (*Source, []record.MarketTick) {
	t.Helper()
	src := NewSource(r, record.NewSymbols(), opts)
	var all []record.MarketTick
	buf := make([]record.MarketTick, 64)
	for {
		n, err := src.Next(buf)
		all = append(all, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return src, all
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
	}
}

func openFile(t *testing.T, name string) *FileReader {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return NewFileReader(f)
}

func typeCounts(c *Counts) map[string]uint64 {
	m := map[string]uint64{}
	for _, ty := range Types {
		if c.ByType[ty] > 0 {
			m[string(ty)] = c.ByType[ty]
		}
	}
	return m
}

func equalCounts(t *testing.T, what string, got, want map[string]uint64) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		if got[k] != want[k] {
			t.Errorf("%s: %s = %d, want %d", what, k, got[k], want[k])
		}
	}
}

// TestFirst1000: the stock directory of 2019-12-30 builds the symbol table.
func TestFirst1000(t *testing.T) {
	name := "12302019_first1000.NASDAQ_ITCH50"
	day, ok := DateFromName(name)
	if !ok || day.Format("2006-01-02") != "2019-12-30" {
		t.Fatalf("DateFromName(%s) = %v, %v", name, day, ok)
	}
	r := openFile(t, name)
	src, ticks := readAll(t, r, SourceOptions{Date: day})
	c := src.Counts()
	equalCounts(t, name, typeCounts(&c), map[string]uint64{"S": 1, "R": 993, "H": 3, "Y": 3})
	if c.Messages != 1000 || c.Refused() != 0 || len(ticks) != 0 {
		t.Errorf("messages %d refused %d ticks %d, want 1000, 0, 0", c.Messages, c.Refused(), len(ticks))
	}
	syms := src.syms
	if got := syms.Name(src.Symbol(13)); got != "AAPL" {
		t.Errorf("locate 13 is %q, want AAPL", got)
	}
	for loc := uint16(1); loc <= 993; loc++ {
		if src.Symbol(loc) == 0 {
			t.Fatalf("locate %d not bound", loc)
		}
	}
	if syms.Len() != 994 { // ids from 1
		t.Errorf("%d symbols interned, want 993", syms.Len()-1)
	}
	if started, ended, last := src.Session(); !started || ended || last != 'O' {
		t.Errorf("session started %v ended %v last %q, want true false 'O'", started, ended, last)
	}
	_ = time.UTC
}
