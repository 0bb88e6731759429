// Package feedsim sends ITCH 5.0 messages as a live feed would: over
// MoldUDP64 (with a re-request server holding every message, and injected
// drops and reorderings) or over SoupBinTCP, at a chosen rate or a
// multiple of real time (the messages' own timestamps). A MoldUDP64 feed
// can be one channel or several (PublishMoldChannels: sharded by stock
// locate, each its own session, sequence and retransmission store).
// `thunderline feed-sim` runs it; the engine's live-feed tests and the
// burst harness use it as their source.
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
	// Channels are each channel's counts (PublishMoldChannels with more
	// than one channel).
	Channels []Stats
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
	return PublishMoldChannels(ctx, src, []*moldudp64.Publisher{pub}, o)
}

// ChannelOf is the channel, of n, that carries the messages of stock
// locate loc (1 to 65,535), as a venue shards its symbols: locates 1, n+1,
// 2n+1… on channel 0, 2, n+2… on channel 1, and so on.
func ChannelOf(loc uint16, n int) int { return (int(loc) - 1) % n }

// PublishMoldChannels sends src's messages over several MoldUDP64
// channels, one publisher (session, sequence numbers, retransmission
// store) each: a message about a stock goes to ChannelOf its locate;
// a message about no stock (locate 0: system events, market-wide circuit
// breakers) goes to every channel, as venues send session-wide events on
// each of their channels. Each channel has its own packets, drops and
// reorderings (Options count a channel's packets) and its own end of
// session; pacing is over src's messages. Stats are the sums; Channels,
// each channel's.
func PublishMoldChannels(ctx context.Context, src Source, pubs []*moldudp64.Publisher, o Options) (Stats, error) {
	if o.PacketMessages <= 0 {
		o.PacketMessages = 8
	}
	if len(pubs) == 0 {
		return Stats{}, errors.New("feedsim: no channel to publish to")
	}
	chans := make([]moldChannel, len(pubs))
	for i, p := range pubs {
		chans[i].pub = p
	}
	p := &pacer{o: o, start: time.Now()}
	var st Stats
	sum := func() Stats {
		st.Channels = make([]Stats, len(chans))
		st.Messages, st.Packets, st.Dropped, st.Reordered = 0, 0, 0, 0
		for i := range chans {
			c := chans[i].st
			st.Channels[i] = c
			st.Messages += c.Messages
			st.Packets += c.Packets
			st.Dropped += c.Dropped
			st.Reordered += c.Reordered
		}
		if len(chans) == 1 {
			st.Channels = nil
		}
		return st
	}
	for {
		m, _, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum(), fmt.Errorf("feedsim: %w", err)
		}
		if err := p.wait(ctx, m.Timestamp()); err != nil {
			return sum(), err
		}
		if loc := m.Locate(); loc != 0 || len(chans) == 1 {
			ch := 0
			if len(chans) > 1 {
				ch = ChannelOf(loc, len(chans))
			}
			if err := chans[ch].add(m.Bytes(), o); err != nil {
				return sum(), err
			}
			continue
		}
		for i := range chans {
			if err := chans[i].add(m.Bytes(), o); err != nil {
				return sum(), err
			}
		}
	}
	for i := range chans {
		if err := chans[i].end(o); err != nil {
			return sum(), err
		}
	}
	return sum(), nil
}

// moldChannel is one channel's publisher and packet state.
type moldChannel struct {
	pub      *moldudp64.Publisher
	st       Stats
	held     []byte // a packet held back for reordering
	inPacket int
}

func (c *moldChannel) add(msg []byte, o Options) error {
	if _, err := c.pub.Add(msg); err != nil {
		return err
	}
	c.st.Messages++
	if c.inPacket++; c.inPacket == o.PacketMessages {
		c.inPacket = 0
		return c.send(o)
	}
	return nil
}

// send sends (or drops, or holds back) the queued packet.
func (c *moldChannel) send(o Options) error {
	c.st.Packets++
	switch {
	case o.DropEvery > 0 && c.st.Packets%uint64(o.DropEvery) == 0:
		c.st.Dropped++
		c.pub.Skip()
		return nil
	case o.ReorderEvery > 0 && c.st.Packets%uint64(o.ReorderEvery) == 0 && c.held == nil:
		c.st.Reordered++
		c.held = c.pub.Take()
		return nil
	}
	if err := c.pub.Flush(); err != nil {
		return err
	}
	if c.held != nil {
		err := c.pub.Send(c.held)
		c.held = nil
		return err
	}
	return nil
}

// end sends the last packet, one held back, and the end of the session.
func (c *moldChannel) end(o Options) error {
	if c.inPacket > 0 {
		if err := c.send(o); err != nil {
			return err
		}
	}
	if c.held != nil {
		if err := c.pub.Send(c.held); err != nil {
			return err
		}
		c.held = nil
	}
	return c.pub.Heartbeat(true)
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
