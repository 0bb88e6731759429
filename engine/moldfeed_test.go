package engine

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"thunderline/adapters/feedsim"
	"thunderline/adapters/itch"
	"thunderline/adapters/moldudp64"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
)

// TestLiveMoldFeedEqualsFile: Nasdaq's 2019-12-30 sample from 09:30,
// published over MoldUDP64 on loopback with one packet in seven dropped,
// by feed-sim (adapters/feedsim) with one packet in five reordered, is
// received live — the gaps asked for and filled by a re-request server
// — and gives exactly what replaying the file gives: the same messages,
// ticks, windows and decisions (digests), nothing lost.
func TestLiveMoldFeedEqualsFile(t *testing.T) {
	file := filepath.Join(itchData, "12302019_SNIPPET.NASDAQ_ITCH50")
	want, err := Replay(context.Background(), []string{file}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, c := runLiveMold(t, file, Options{})
	if c["mold_recovered"] == 0 || c["mold_lost"] != 0 {
		t.Fatalf("mold counts %v: want recovered gaps and nothing lost", c)
	}
	for _, k := range []string{"A", "U", "F", "D", "E", "X", "unknown_order_ref"} {
		if c[k] != want.Records[k] {
			t.Errorf("%s: live %d, file %d", k, c[k], want.Records[k])
		}
	}
	if got.Ticks != want.Ticks || got.WindowDigest != want.WindowDigest || got.TraceDigest != want.TraceDigest || got.Windows == 0 {
		t.Fatalf("live: ticks %d windows %d %s/%s; file: ticks %d windows %d %s/%s", got.Ticks, got.Windows, got.WindowDigest, got.TraceDigest,
			want.Ticks, want.Windows, want.WindowDigest, want.TraceDigest)
	}
}

// TestLiveMoldJournalReplays: a live MoldUDP64 session with gaps, journaled,
// keeps its sequence events (gaps seen, re-requests sent) in the journal in
// the stream where they happened, and its ticks with their kernel receive
// stamps; replay --verify of that journal re-derives every window and trace
// and reports the same events. The live run measured packet → trace.
func TestLiveMoldJournalReplays(t *testing.T) {
	file := filepath.Join(itchData, "12302019_SNIPPET.NASDAQ_ITCH50")
	dir := filepath.Join(t.TempDir(), "live")
	// 200 µs windows: the sample's first second closes many on the feed's
	// own ticks (the end of the session closes the rest, with no packet).
	prof, err := ReplayProfile()
	if err != nil {
		t.Fatal(err)
	}
	prof.Window.Length = config.Duration(200 * time.Microsecond)
	got, c := runLiveMold(t, file, Options{Profile: prof, JournalDir: dir, Wire: true})
	if got.FeedEvents["gap"] == 0 || got.FeedEvents["rerequest"] == 0 || got.FeedEvents["gap"] != c["mold_gaps"] ||
		got.FeedEvents["rerequest"] != c["mold_requested"] || got.FeedEvents["lost"] != 0 {
		t.Fatalf("feed events %v, receiver counts %v", got.FeedEvents, c)
	}
	if c["mold_rx_stamped"] == 0 || c["mold_rx_unstamped"] != 0 {
		t.Fatalf("receive stamps: %v", c)
	}
	d := got.Decisions
	if d == nil || d.WireCount == 0 || d.WireP50 <= 0 || d.WireP50 > int64(time.Minute) ||
		d.WireP99 < d.WireP50 {
		t.Fatalf("packet → trace latency: %+v", d)
	}
	rep, err := Replay(context.Background(), []string{got.Journal.Dir}, ReplayOptions{Verify: true, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verify.OK() || rep.WindowDigest != got.WindowDigest || rep.TraceDigest != got.TraceDigest || rep.Traces != got.Traces {
		t.Fatalf("replay of the live journal: verify %+v, digests %s/%s want %s/%s", rep.Verify, rep.WindowDigest, rep.TraceDigest,
			got.WindowDigest, got.TraceDigest)
	}
	if len(rep.FeedEvents) != len(got.FeedEvents) {
		t.Fatalf("replayed feed events %v, live %v", rep.FeedEvents, got.FeedEvents)
	}
	for k, n := range got.FeedEvents {
		if rep.FeedEvents[k] != n {
			t.Fatalf("replayed feed events %v, live %v", rep.FeedEvents, got.FeedEvents)
		}
	}
	t.Logf("live: %d traces, packet → trace p50 %v p99 %v over %d; feed events %v", got.Traces, time.Duration(d.WireP50), time.Duration(d.WireP99), d.WireCount, got.FeedEvents)
	if rep.Decisions != nil && rep.Decisions.WireCount != 0 {
		t.Fatalf("a replay measured packet → trace: %+v", rep.Decisions)
	}
}

// runLiveMold publishes an ITCH file over MoldUDP64 on loopback through
// feed-sim (one packet in seven dropped, one in five sent late) with a
// re-request server, runs a pipeline (opts, the replay profile by default)
// on the live feed to the end of the session, and returns its summary and
// the feed's counts.
func runLiveMold(t *testing.T, file string, opts Options) (*Summary, map[string]uint64) {
	t.Helper()
	got, c, _ := liveMold(t, file, opts, config.MoldFeed{Listen: "127.0.0.1:0"}, nil, feedsim.Options{DropEvery: 7, ReorderEvery: 5})
	return got, c
}

// liveMold is runLiveMold with the feed's config (Listen, XDP), the
// publisher's socket (dial; nil: a loopback one) and feed-sim's options;
// it also returns feed-sim's counts.
func liveMold(t *testing.T, file string, opts Options, feed config.MoldFeed, dial func(addr string) *net.UDPConn,
	fo feedsim.Options) (*Summary, map[string]uint64, feedsim.Stats) {
	t.Helper()
	var session [moldudp64.SessionLen]byte
	copy(session[:], "SNIPPET   ")
	store := moldudp64.NewMemStore(1)
	srv, err := moldudp64.ListenRetransmit("127.0.0.1:0", session, store)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go srv.Serve()

	prof := opts.Profile
	if prof == nil {
		if prof, err = ReplayProfile(); err != nil {
			t.Fatal(err)
		}
	}
	feed.Rerequest, feed.Date = srv.Addr(), "2019-12-30"
	syms := record.NewSymbols()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mf, err := StartMoldFeed(ctx, feed, syms)
	if err != nil {
		t.Fatal(err)
	}
	opts.Profile, opts.Symbols = prof, syms
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var pub *moldudp64.Publisher
	if dial == nil {
		if pub, err = moldudp64.Dial(mf.Addr(), session); err != nil {
			t.Fatal(err)
		}
	} else {
		pub = moldudp64.NewPublisher(dial(mf.Addr()), session)
	}
	defer pub.Close()
	pub.Store = store
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stats := make(chan feedsim.Stats, 1)
	go func() {
		st, err := feedsim.PublishMold(ctx, itch.NewFileReader(f), pub, fo)
		if err != nil {
			t.Error(err)
		}
		stats <- st
	}()
	got, err := p.Run(ctx, mf)
	if err != nil {
		t.Fatal(err)
	}
	return got, mf.Counts(), <-stats
}
