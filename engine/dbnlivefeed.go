package engine

import (
	"context"
	"time"

	"thunderline/adapters/dbn"
	"thunderline/adapters/dbnlive"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
)

// DBNLiveFeed reads Databento's live gateway (feed.kind: dbn-live): the
// session's DBN stream decoded by adapters/dbn, resumed after a broken
// link from the last tick's event time with what it already delivered
// dropped, so that nothing is lost or delivered twice (the rule is
// dbnlive.Feed's). It ends at a served capture's end, when ctx ends, or
// with the error of a refused handshake or a stream that is not DBN.
type DBNLiveFeed struct {
	*dbnlive.Feed
}

// StartDBNLiveFeed connects to the profile's feed.dbn_live gateway, the
// API key read from the variable key_env names.
func StartDBNLiveFeed(ctx context.Context, f config.DBNLive, syms *record.Symbols) (*DBNLiveFeed, error) {
	key, err := f.APIKey()
	if err != nil {
		return nil, err
	}
	start, replay, err := f.Replay()
	if err != nil {
		return nil, err
	}
	cfg := dbnlive.FeedConfig{
		Config: dbnlive.Config{Addr: f.Addr, Key: key, Dataset: f.Dataset, Schema: f.Schema, SType: f.SType,
			Symbols: f.Symbols, Replay: replay, Start: start, Heartbeat: time.Duration(f.Heartbeat)},
		Source:  dbn.SourceOptions{Strict: f.StrictSymbols},
		Overlap: time.Duration(f.Overlap),
	}
	feed, err := dbnlive.StartFeed(ctx, cfg, syms)
	if err != nil {
		return nil, err
	}
	return &DBNLiveFeed{feed}, nil
}

// Counts are the records received by rtype (replays included) and the
// feed's sessions, reconnects and dropped repeats.
func (d *DBNLiveFeed) Counts() map[string]uint64 {
	m := recordNames(d.RecordCounts())
	st := &d.Stats
	for k, v := range map[string]uint64{
		"dbn_live_sessions":      st.Sessions.Load(),
		"dbn_live_reconnects":    st.Reconnects.Load(),
		"dbn_live_dial_errors":   st.DialErrors.Load(),
		"dbn_live_refusals":      st.Refusals.Load(),
		"dbn_live_stream_errors": st.StreamErrors.Load(),
		"dbn_live_idle_timeouts": st.IdleTimeouts.Load(),
		"dbn_live_duplicates":    st.Duplicates.Load(),
		"dbn_live_mismatches":    st.Mismatches.Load(),
		"dbn_live_narrowed":      st.Narrowed.Load(),
	} {
		m[k] = v
	}
	return m
}
