// Package feedsim sends ITCH 5.0 messages as a live feed would: over
// MoldUDP64 (with a re-request server holding every message, and injected
// drops and reorderings) or over SoupBinTCP, at a chosen rate or a
// multiple of real time (the messages' own timestamps). `thunderline
// feed-sim` runs it; the engine's live-feed tests and the burst harness
// use it as their source.
package feedsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"thunderline/adapters/itch"
	"thunderline/adapters/moldudp64"
	"thunderline/adapters/soupbintcp"
)

// Options say how messages go out.
type Options struct {
	// Rate is messages a second (0: as fast as possible); Speed paces by
	// the messages' timestamps instead, as a multiple of real time (2: twice
	// as fast). Speed wins when both are set.
	Rate  float64
	Speed float64
	// PacketMessages is how many messages a MoldUDP64 packet carries [8].
	PacketMessages int
	// DropEvery drops every n-th packet (0: none): its messages stay in the
	// re-request store, as a datagram lost on the wire.
	DropEvery int
	// ReorderEvery holds every n-th packet back and sends it after the
	// next one (0: none).
	ReorderEvery int
}

// Stats count what was sent.
type Stats struct {
	Messages, Packets, Dropped, Reordered uint64
}

// Source is where messages come from (an itch.FileReader or
// CaptureReader).
type Source = itch.MessageReader

// pacerSlack is how early a message may go.
const pacerSlack = 200 * time.Microsecond

// pacer waits until message i (timestamp ts, ns since midnight) is due.
type pacer struct {
	o        Options
	start    time.Time
	first    int64
	haveFrst bool
	n        uint64
}

func (p *pacer) wait(ctx context.Context, ts int64) error {
	p.n++
	var due time.Duration
	switch {
	case p.o.Speed > 0:
		if !p.haveFrst {
			p.first, p.haveFrst = ts, true
		}
		due = time.Duration(float64(ts-p.first) / p.o.Speed)
	case p.o.Rate > 0:
		due = time.Duration(float64(p.n-1) / p.o.Rate * 1e9)
	default:
		return ctx.Err()
	}
	// Timers cost more than a message at a million a second: a message
	// less than pacerSlack early goes now (the rate holds on average).
	if d := due - time.Since(p.start); d > pacerSlack {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return ctx.Err()
}

// PublishMold sends src's messages to pub (its Store keeps every one for a
// re-request server), then the end of the session.
func PublishMold(ctx context.Context, src Source, pub *moldudp64.Publisher, o Options) (Stats, error) {
	if o.PacketMessages <= 0 {
		o.PacketMessages = 8
	}
	var st Stats
	p := &pacer{o: o, start: time.Now()}
	var held []byte // a packet held back for reordering
	inPacket := 0
	send := func() error {
		st.Packets++
		switch {
		case o.DropEvery > 0 && st.Packets%uint64(o.DropEvery) == 0:
			st.Dropped++
			pub.Skip()
			return nil
		case o.ReorderEvery > 0 && st.Packets%uint64(o.ReorderEvery) == 0 && held == nil:
			st.Reordered++
			held = pub.Take()
			return nil
		}
		if err := pub.Flush(); err != nil {
			return err
		}
		if held != nil {
			err := pub.Send(held)
			held = nil
			return err
		}
		return nil
	}
	for {
		m, _, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, fmt.Errorf("feedsim: %w", err)
		}
		if err := p.wait(ctx, m.Timestamp()); err != nil {
			return st, err
		}
		if _, err := pub.Add(m.Bytes()); err != nil {
			return st, err
		}
		st.Messages++
		if inPacket++; inPacket == o.PacketMessages {
			inPacket = 0
			if err := send(); err != nil {
				return st, err
			}
		}
	}
	if inPacket > 0 {
		if err := send(); err != nil {
			return st, err
		}
	}
	if held != nil {
		if err := pub.Send(held); err != nil {
			return st, err
		}
	}
	return st, pub.Heartbeat(true)
}

// FillSoup appends src's messages to a SoupBinTCP session log, paced, then
// ends the session.
func FillSoup(ctx context.Context, src Source, log *soupbintcp.Log, o Options) (Stats, error) {
	var st Stats
	p := &pacer{o: o, start: time.Now()}
	for {
		m, _, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, fmt.Errorf("feedsim: %w", err)
		}
		if err := p.wait(ctx, m.Timestamp()); err != nil {
			return st, err
		}
		if _, err := log.Append(m.Bytes()); err != nil {
			return st, err
		}
		st.Messages++
	}
	log.End()
	return st, nil
}
