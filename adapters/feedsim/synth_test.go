package feedsim

import (
	"bytes"
	"testing"

	"thunderline/adapters/itch"
	"thunderline/hotpath/record"
)

// TestSynthITCH: the synthetic session is valid ITCH 5.0 that the engine's
// Source reads without a refusal or an unknown order, names its symbols
// from the directory, makes book and trade ticks, and is the same bytes
// for the same config.
func TestSynthITCH(t *testing.T) {
	run := func() (itch.Counts, []byte) {
		s, err := NewSynthITCH(SynthConfig{Symbols: 4, Messages: 20_000, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		var all []byte
		rd := &tee{r: s, out: &all}
		src := itch.NewSource(rd, record.NewSymbols(), itch.SourceOptions{Date: itch.DayOf(1577664000e9)})
		dst := make([]record.MarketTick, 256)
		trades := 0
		for {
			n, err := src.Next(dst)
			for _, tk := range dst[:n] {
				if tk.Action == record.ActionTrade {
					trades++
				}
			}
			if n == 0 || err != nil {
				break
			}
		}
		c := src.Counts()
		if trades == 0 || c.Ticks < 20_000 {
			t.Fatalf("trades %d, ticks %d", trades, c.Ticks)
		}
		return c, all
	}
	c, a := run()
	if c.Messages != 20_000+4+1 || c.Refused() != 0 || c.UnknownOrder != 0 || c.NoDirectory != 0 || c.ByType['R'] != 4 {
		t.Fatalf("counts %+v", c)
	}
	if _, b := run(); !bytes.Equal(a, b) {
		t.Fatal("the same config made different messages")
	}
	if _, err := NewSynthITCH(SynthConfig{Symbols: 10_000}); err == nil {
		t.Fatal("10,000 symbols accepted")
	}
}

// tee copies each message a reader returns.
type tee struct {
	r   Source
	out *[]byte
}

func (x *tee) Next() (itch.Message, itch.Meta, error) {
	m, meta, err := x.r.Next()
	if err == nil {
		*x.out = append(*x.out, m.Bytes()...)
	}
	return m, meta, err
}
func (x *tee) Counts() *itch.Counts { return x.r.Counts() }
func (x *tee) LastRefusal() error   { return x.r.LastRefusal() }
