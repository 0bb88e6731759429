package engine

import (
	"context"
	"errors"

	"thunderline/adapters/itch"
	"thunderline/adapters/soupbintcp"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
)

// SoupFeed is a TotalView-ITCH 5.0 feed over SoupBinTCP (feed.kind:
// soupbintcp): the client logs in, follows the session (reconnecting and
// resuming at its next sequence number after a broken link, so nothing is
// lost or repeated) and hands each message through a ring to the ITCH
// session state. It ends at the server's end of session or when ctx ends.
type SoupFeed struct {
	rd    *moldReader
	src   *itch.Source
	stats soupbintcp.Stats
	err   chan error
}

// StartSoupFeed logs in to the profile's feed.soupbintcp server and starts
// following its session.
func StartSoupFeed(ctx context.Context, f config.SoupFeed, syms *record.Symbols) (*SoupFeed, error) {
	day, err := f.Day()
	if err != nil {
		return nil, err
	}
	rd, pushes, err := newMsgRings(1)
	if err != nil {
		return nil, err
	}
	// A TCP stream has no per-message kernel stamp: receive times stay 0,
	// and wire latency is reported for MoldUDP64 feeds only.
	deliver := msgDeliver(0, func() int64 { return 0 }, pushes[0])
	sf := &SoupFeed{rd: rd, src: itch.NewSource(rd, syms, itch.SourceOptions{Date: day}), err: make(chan error, 1)}
	cfg := soupbintcp.ClientConfig{Addr: f.Addr, Username: f.Username, Password: f.Password(), Session: f.Session}
	go func() {
		err := soupbintcp.Follow(ctx, cfg, &sf.stats, deliver)
		if errors.Is(err, soupbintcp.ErrEnded) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
		sf.err <- err
		rd.ended.Store(true)
	}()
	return sf, nil
}

// Next implements Source. A login the server refuses, or a protocol
// error, ends the feed with that error.
func (f *SoupFeed) Next(dst []record.MarketTick) (int, error) {
	n, err := f.src.Next(dst)
	if n == 0 && err != nil {
		select {
		case ferr := <-f.err:
			if ferr != nil {
				return 0, ferr
			}
		default:
		}
	}
	return n, err
}

// Counts are the ITCH messages by type and the session's logins and
// reconnects.
func (f *SoupFeed) Counts() map[string]uint64 {
	c := f.src.Counts()
	m := c.Map()
	m["soup_logins"] = f.stats.Logins.Load()
	m["soup_reconnects"] = f.stats.Reconnects.Load()
	return m
}
