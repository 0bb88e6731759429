package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"thunderline/adapters/dbn"
	"thunderline/adapters/dbnlive"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
)

// DBNLiveFeed reads Databento's live gateway (feed.kind: dbn-live): a
// session's DBN stream decoded by adapters/dbn. When the connection drops
// it reconnects (backoff 50 ms doubling to 5 s) asking the gateway to
// replay from the event time of the last tick it delivered, and drops what
// it already has — every tick before that time, and as many at that time
// as it had delivered — so nothing is lost and nothing is delivered twice
// (the gateway replays records in their original order). A resumed session
// that closes without a new tick is the end of the feed (a replayed
// capture's end); a refused login ends it with the error.
type DBNLiveFeed struct {
	ctx  context.Context
	cfg  dbnlive.Config
	syms *record.Symbols
	opts dbn.SourceOptions
	conn *dbnlive.Conn
	src  *dbn.Source

	lastTs   int64 // event time of the last tick delivered
	atLast   int   // ticks delivered with that event time
	skip     int   // after a resume: ticks at lastTs still to drop
	resuming bool
	fresh    bool // this session delivered a tick

	Reconnects, Duplicates atomic.Uint64
}

// StartDBNLiveFeed connects to the profile's feed.dbn_live gateway.
func StartDBNLiveFeed(ctx context.Context, f config.DBNLive, syms *record.Symbols) (*DBNLiveFeed, error) {
	key, err := f.APIKey()
	if err != nil {
		return nil, err
	}
	d := &DBNLiveFeed{ctx: ctx, syms: syms, opts: dbn.SourceOptions{Strict: f.StrictSymbols}, cfg: dbnlive.Config{Addr: f.Addr, Key: key, Dataset: f.Dataset, Schema: f.Schema,
		SType: f.SType, Symbols: f.Symbols}}
	if err := d.connect(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *DBNLiveFeed) connect() error {
	conn, err := dbnlive.Dial(d.ctx, d.cfg)
	if err != nil {
		return err
	}
	r, err := dbn.NewReader(conn.Stream)
	if err != nil {
		conn.Close()
		return fmt.Errorf("dbn-live %s: the stream: %w", d.cfg.Addr, err)
	}
	d.conn, d.src, d.fresh = conn, dbn.NewSource(r, d.syms, d.opts), false
	return nil
}

// Next implements Source.
func (d *DBNLiveFeed) Next(dst []record.MarketTick) (int, error) {
	for {
		n, err := d.src.Next(dst)
		k := 0
		for i := range dst[:n] {
			t := &dst[i]
			if d.resuming {
				if t.TsEvent < d.lastTs || (t.TsEvent == d.lastTs && d.skip > 0) {
					if t.TsEvent == d.lastTs {
						d.skip--
					}
					d.Duplicates.Add(1)
					continue
				}
				d.resuming = false
			}
			if t.TsEvent == d.lastTs {
				d.atLast++
			} else {
				d.lastTs, d.atLast = t.TsEvent, 1
			}
			dst[k] = *t
			k++
		}
		if k > 0 {
			d.fresh = true
		}
		if err == nil {
			if k > 0 {
				return k, nil
			}
			continue
		}
		// The session ended or broke: what it gave is delivered first.
		d.conn.Close()
		if corrupt(err) {
			return k, fmt.Errorf("dbn-live %s: %w", d.cfg.Addr, err)
		}
		if d.resuming && !d.fresh && errors.Is(err, io.EOF) {
			// A resumed session that ended cleanly with nothing new: the
			// end of a replayed capture.
			return k, io.EOF
		}
		if rerr := d.reconnect(); rerr != nil {
			return k, rerr
		}
		if k > 0 {
			return k, nil
		}
	}
}

// reconnect dials again, asking for a replay from the last tick's time.
func (d *DBNLiveFeed) reconnect() error {
	d.cfg.Start = d.lastTs
	d.resuming, d.skip = d.lastTs != 0, d.atLast
	wait := 50 * time.Millisecond
	for {
		d.Reconnects.Add(1)
		err := d.connect()
		if err == nil {
			return nil
		}
		if errors.Is(err, dbnlive.ErrAuth) || errors.Is(err, dbnlive.ErrProtocol) || corrupt(err) || d.ctx.Err() != nil {
			return err
		}
		select {
		case <-d.ctx.Done():
			return d.ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// corrupt reports whether err is the stream lying (bytes that are not DBN)
// rather than ending or breaking: no reconnect mends that.
func corrupt(err error) bool {
	for _, e := range []error{dbn.ErrBadMagic, dbn.ErrUnsupportedVersion, dbn.ErrBadMetadata, dbn.ErrBadRecord, dbn.ErrCorrupt} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Counts are the feed's reconnects and the ticks dropped as already had.
func (d *DBNLiveFeed) Counts() map[string]uint64 {
	return map[string]uint64{"dbn_live_reconnects": d.Reconnects.Load(), "dbn_live_duplicates": d.Duplicates.Load()}
}
