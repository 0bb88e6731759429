package itch

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"thunderline/hotpath/record"
)

// TestSnippetFigures: the 1,000 messages of 2019-12-30 from 09:30 give the
// published counts per type, no refusal, and count the 394 executes,
// cancels, deletes and replaces of orders added before 09:30 as unknown
// order references instead of failing.
func TestSnippetFigures(t *testing.T) {
	name := "12302019_SNIPPET.NASDAQ_ITCH50"
	day, ok := DateFromName(name)
	if !ok {
		t.Fatal("no date in the name")
	}
	src, ticks := readAll(t, openFile(t, name), SourceOptions{Date: day})
	c := src.Counts()
	equalCounts(t, name, typeCounts(&c), map[string]uint64{"A": 367, "U": 225, "F": 193, "D": 167, "E": 28, "X": 6, "I": 4, "P": 4, "Q": 4, "S": 1, "C": 1})
	if c.Messages != 1000 || c.Refused() != 0 || c.UnknownOrder != 394 {
		t.Fatalf("messages %d refused %d unknown order refs %d", c.Messages, c.Refused(), c.UnknownOrder)
	}
	if uint64(len(ticks)) != c.Ticks || len(ticks) == 0 {
		t.Fatalf("%d ticks, counted %d", len(ticks), c.Ticks)
	}
	// Event times: 2019-12-30 09:30 New York (14:30 UTC) and after.
	open := int64(1577716200) * 1e9
	for i := range ticks {
		tk := &ticks[i]
		if tk.TsEvent < open || tk.TsEvent > open+3600e9 {
			t.Fatalf("tick %d at %d, outside 09:30-10:30 New York", i, tk.TsEvent)
		}
		if tk.Kind == record.KindOrder && (tk.Price <= 0 || tk.Price%1e5 != 0) {
			t.Fatalf("tick %d: price %d is not a 4-decimal price in 1e-9 units", i, tk.Price)
		}
	}
	if started, _, last := src.Session(); !started || last != 'Q' {
		t.Fatalf("session started %v last event %q, want the market open (Q)", started, last)
	}
}

// TestCaptureFigures: the 49 captures of the Nasdaq, BX and PSX feeds give
// 227 messages with the published counts per type, and no refusal.
func TestCaptureFigures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(dataDir, "moldudp64/*.pcap"))
	if err != nil || len(files) != 49 {
		t.Fatalf("%d captures: %v", len(files), err)
	}
	var tot Counts
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		cr, err := NewCaptureReader(fh)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		src, _ := readAll(t, cr, SourceOptions{})
		c := src.Counts()
		if c.Refused() != 0 || cr.LastRefusal() != nil {
			t.Errorf("%s: %d refused (%v)", filepath.Base(f), c.Refused(), cr.LastRefusal())
		}
		tot.Add(&c)
		fh.Close()
	}
	equalCounts(t, "captures", typeCounts(&tot), map[string]uint64{"A": 53, "D": 18, "F": 17, "U": 17, "E": 16, "H": 16,
		"P": 15, "X": 15, "C": 15, "Y": 15, "L": 6, "I": 6, "N": 5, "Q": 5, "J": 5, "S": 3})
	if tot.Messages != 227 {
		t.Fatalf("%d messages, want 227", tot.Messages)
	}
}

// TestBadMessagesCounted: in a framed file, a message of an unknown type
// and one of a wrong length are refused by name and counted; the messages
// around them are delivered.
func TestBadMessagesCounted(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "12302019_first1000.NASDAQ_ITCH50"))
	if err != nil {
		t.Fatal(err)
	}
	// Frame 3 gets an unknown type, frame 5 loses a byte (its length
	// field says so: a known type of the wrong length).
	var out bytes.Buffer
	for i, off := 0, 0; off < len(raw); i++ {
		n := int(raw[off])<<8 | int(raw[off+1])
		msg := append([]byte(nil), raw[off+2:off+2+n]...)
		switch i {
		case 3:
			msg[0] = '~'
		case 5:
			msg = msg[:len(msg)-1]
		}
		out.Write([]byte{byte(len(msg) >> 8), byte(len(msg))})
		out.Write(msg)
		off += 2 + n
	}
	fr := NewFileReader(&out)
	day, _ := DateFromName("12302019_first1000.NASDAQ_ITCH50")
	src := NewSource(fr, record.NewSymbols(), SourceOptions{Date: day})
	buf := make([]record.MarketTick, 16)
	for {
		if _, err := src.Next(buf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	c := src.Counts()
	if c.UnknownType != 1 || c.BadLength != 1 || c.Messages != 998 {
		t.Fatalf("unknown %d bad length %d messages %d", c.UnknownType, c.BadLength, c.Messages)
	}
	var e *Error
	if err := fr.LastRefusal(); !errors.As(err, &e) {
		t.Fatalf("last refusal %v is not an *Error", err)
	}
}

// FuzzFileReader: no framed input makes the reader or the Source panic.
func FuzzFileReader(f *testing.F) {
	raw, _ := os.ReadFile(filepath.Join(dataDir, "12302019_SNIPPET.NASDAQ_ITCH50"))
	f.Add(raw[:min(len(raw), 4096)])
	f.Add([]byte{0, 0})
	f.Add([]byte{0xff, 0xff, 'A'})
	f.Fuzz(func(t *testing.T, b []byte) {
		drain(NewSource(NewFileReader(bytes.NewReader(b)), record.NewSymbols(), SourceOptions{Date: fuzzDay}))
	})
}

// FuzzCaptureReader: no capture bytes make the capture reader or the
// Source panic.
func FuzzCaptureReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(dataDir, "moldudp64/*.pcap"))
	for _, p := range files[:min(len(files), 6)] {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cr, err := NewCaptureReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		drain(NewSource(cr, record.NewSymbols(), SourceOptions{}))
	})
}

// FuzzSource: any sequence of well-framed messages (random types and
// bodies) keeps the Source's order book consistent and panic-free.
func FuzzSource(f *testing.F) {
	raw, _ := os.ReadFile(filepath.Join(dataDir, "12302019_SNIPPET.NASDAQ_ITCH50"))
	f.Add(raw[:min(len(raw), 2048)])
	f.Fuzz(func(t *testing.T, b []byte) {
		// Re-frame b as messages of the lengths their type bytes want.
		var out bytes.Buffer
		for len(b) > 0 {
			n := Length(b[0])
			if n == 0 || n > len(b) {
				break
			}
			out.Write([]byte{0, byte(n)})
			out.Write(b[:n])
			b = b[n:]
		}
		drain(NewSource(NewFileReader(&out), record.NewSymbols(), SourceOptions{Date: fuzzDay}))
	})
}

var fuzzDay, _ = DateFromName("12302019")

func drain(src *Source) {
	buf := make([]record.MarketTick, MaxTicksPerMessage)
	for i := 0; i < 1<<20; i++ {
		if _, err := src.Next(buf); err != nil {
			return
		}
	}
}
