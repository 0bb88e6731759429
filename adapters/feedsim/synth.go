package feedsim

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"

	"thunderline/adapters/itch"
)

// SynthConfig shapes a synthetic ITCH 5.0 session (SynthITCH).
type SynthConfig struct {
	Symbols  int     // stock locates 1..Symbols, named SYM0001… [16]
	Messages uint64  // order messages after the directory (0: endless)
	Rate     float64 // messages a second of event time: timestamps advance 1/Rate apart [100,000]
	Seed     uint64
}

// SynthITCH makes a session's messages: a start-of-messages system event,
// one stock directory message per symbol, then adds, executions and
// deletes around a random-walking price per symbol — a book that stays
// about ten orders a side deep. Timestamps start at 09:30 and advance
// 1/Rate a message, so pacing the feed at Rate keeps event time with the
// wall clock (windows close in real time). The same config makes the same
// bytes. It is an itch.MessageReader.
type SynthITCH struct {
	cfg    SynthConfig
	rng    *rand.Rand
	n      uint64 // messages made
	orders uint64 // order messages made
	ts     float64
	ref    uint64
	syms   []synthSym
	buf    [64]byte
	counts itch.Counts
}

type synthSym struct {
	mid  int64    // price in ITCH's 4-decimal units
	live []uint64 // resting order references, oldest first
	side []byte
	px   []int64
}

// NewSynthITCH returns a synthetic session.
func NewSynthITCH(cfg SynthConfig) (*SynthITCH, error) {
	if cfg.Symbols == 0 {
		cfg.Symbols = 16
	}
	if cfg.Rate == 0 {
		cfg.Rate = 100_000
	}
	if cfg.Symbols < 1 || cfg.Symbols > 9999 {
		return nil, fmt.Errorf("feedsim: synthetic symbols %d: want 1 to 9999", cfg.Symbols)
	}
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("feedsim: synthetic rate %g: want a positive rate", cfg.Rate)
	}
	s := &SynthITCH{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x17c4)), ts: 34_200e9, syms: make([]synthSym, cfg.Symbols)}
	for i := range s.syms {
		s.syms[i].mid = int64(100_0000 + 10_0000*i) // $100, $110, …
	}
	return s, nil
}

const synthDepth = 10 // resting orders a symbol keeps about

// Next implements itch.MessageReader.
func (s *SynthITCH) Next() (itch.Message, itch.Meta, error) {
	nsym := uint64(len(s.syms))
	var b []byte
	switch {
	case s.n == 0:
		b = s.header('S', 0, 12)
		b[11] = 'O'
	case s.n <= nsym:
		loc := uint16(s.n)
		b = s.header('R', loc, 39)
		copy(b[11:19], fmt.Appendf(s.buf[40:40], "SYM%04d ", loc))
		b[19], b[20] = 'Q', 'N'
		binary.BigEndian.PutUint32(b[21:], 100)
		b[25], b[26] = 'N', 'C'
		b[27], b[28] = 'Z', ' '
		b[29], b[30], b[31], b[32], b[33] = 'P', 'N', ' ', '1', 'N' // authentic, no SSR, no IPO, LULD tier 1, not an ETP
		binary.BigEndian.PutUint32(b[34:], 0)
		b[38] = 'N'
	default:
		if s.cfg.Messages > 0 && s.orders >= s.cfg.Messages {
			return itch.Message{}, itch.Meta{}, io.EOF
		}
		b = s.order()
		s.orders++
	}
	s.n++
	m, err := itch.Parse(b)
	if err != nil {
		return itch.Message{}, itch.Meta{}, fmt.Errorf("feedsim: synthetic message %d: %w", s.n, err) // a bug here
	}
	s.counts.Messages++
	s.counts.ByType[b[0]]++
	return m, itch.Meta{Seq: s.n}, nil
}

// order makes the next order message: an add while a symbol's book is
// thin, else an execution (a trade) or a delete of its oldest order.
func (s *SynthITCH) order() []byte {
	i := s.rng.IntN(len(s.syms))
	y := &s.syms[i]
	loc := uint16(i + 1)
	s.ts += 1e9 / s.cfg.Rate
	if len(y.live) < synthDepth || (len(y.live) < 3*synthDepth && s.rng.IntN(2) == 0) {
		y.mid += int64(s.rng.IntN(3)-1) * 100 // a cent up, down or not
		side, px := byte('B'), y.mid-int64(1+s.rng.IntN(5))*100
		if s.rng.IntN(2) == 0 {
			side, px = 'S', y.mid+int64(1+s.rng.IntN(5))*100
		}
		s.ref++
		y.live, y.side, y.px = append(y.live, s.ref), append(y.side, side), append(y.px, px)
		b := s.header('A', loc, 36)
		binary.BigEndian.PutUint64(b[11:], s.ref)
		b[19] = side
		binary.BigEndian.PutUint32(b[20:], 100)
		copy(b[24:32], fmt.Appendf(s.buf[40:40], "SYM%04d ", loc))
		binary.BigEndian.PutUint32(b[32:], uint32(px))
		return b
	}
	ref := y.live[0]
	y.live, y.side, y.px = y.live[1:], y.side[1:], y.px[1:]
	if s.rng.IntN(4) == 0 {
		b := s.header('E', loc, 31)
		binary.BigEndian.PutUint64(b[11:], ref)
		binary.BigEndian.PutUint32(b[19:], 100)
		binary.BigEndian.PutUint64(b[23:], s.orders+1) // match number
		return b
	}
	b := s.header('D', loc, 19)
	binary.BigEndian.PutUint64(b[11:], ref)
	return b
}

// header fills the common fields of a message of type t and length l.
func (s *SynthITCH) header(t byte, loc uint16, l int) []byte {
	b := s.buf[:l]
	clear(b)
	b[0] = t
	binary.BigEndian.PutUint16(b[1:], loc)
	ts := uint64(s.ts)
	b[5], b[6] = byte(ts>>40), byte(ts>>32)
	binary.BigEndian.PutUint32(b[7:], uint32(ts))
	return b
}

// Counts implements itch.MessageReader.
func (s *SynthITCH) Counts() *itch.Counts { return &s.counts }

// LastRefusal implements itch.MessageReader: nothing is refused.
func (s *SynthITCH) LastRefusal() error { return nil }
