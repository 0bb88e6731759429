package engine

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"thunderline/adapters/feedsim"
	"thunderline/adapters/moldbpf/vethns"
	"thunderline/engine/config"
)

// TestLiveMoldXDP: the sample published from a network namespace across a
// veth pair, one packet in seven dropped before the wire, to a live feed
// with the XDP counter on the receiving interface: the counter sees every
// packet the socket read (nothing lost in this host) and exactly the
// dropped packets as wire gaps; the re-request server fills them and the
// run equals the file's replay.
func TestLiveMoldXDP(t *testing.T) {
	n := vethns.New(t)
	file := filepath.Join(itchData, "12302019_SNIPPET.NASDAQ_ITCH50")
	want, err := Replay(context.Background(), []string{file}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	feed := config.MoldFeed{Listen: n.HostAddr + ":0", XDP: config.FeedXDP{Interface: n.Host}}
	got, c, st := liveMold(t, file, Options{}, feed, func(addr string) *net.UDPConn { return n.DialUDP(t, addr) },
		feedsim.Options{DropEvery: 7})
	if c["xdp_unavailable"] != 0 || c["xdp_packets"] == 0 {
		t.Fatalf("XDP counter not running: %v", c)
	}
	if c["xdp_packets"] != c["mold_feed_datagrams"] {
		t.Fatalf("driver saw %d packets, the socket read %d: nothing should be lost in this host", c["xdp_packets"], c["mold_feed_datagrams"])
	}
	if st.Dropped == 0 || c["xdp_gaps"] != st.Dropped || c["xdp_missed"] != 8*st.Dropped || c["xdp_late"] != 0 {
		t.Fatalf("feed-sim dropped %d packets of 8 messages; XDP counts %v", st.Dropped, c)
	}
	if c["mold_lost"] != 0 || got.Ticks != want.Ticks || got.WindowDigest != want.WindowDigest || got.TraceDigest != want.TraceDigest {
		t.Fatalf("live over veth: ticks %d %s/%s, lost %d; file: ticks %d %s/%s", got.Ticks, got.WindowDigest, got.TraceDigest, c["mold_lost"],
			want.Ticks, want.WindowDigest, want.TraceDigest)
	}
}

// TestLiveMoldXDPRefused: an XDP counter the kernel cannot attach (no such
// interface) leaves the feed running without it: said once in the log,
// counted (xdp_unavailable), and the run equals the file's replay.
func TestLiveMoldXDPRefused(t *testing.T) {
	file := filepath.Join(itchData, "12302019_SNIPPET.NASDAQ_ITCH50")
	want, err := Replay(context.Background(), []string{file}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	feed := config.MoldFeed{Listen: "127.0.0.1:0", XDP: config.FeedXDP{Interface: "tl-no-such-if"}}
	got, c, _ := liveMold(t, file, Options{}, feed, nil, feedsim.Options{DropEvery: 7})
	if c["xdp_unavailable"] != 1 || c["xdp_packets"] != 0 || got.TraceDigest != want.TraceDigest || got.Ticks != want.Ticks {
		t.Fatalf("counts %v; trace digest %s, want %s", c, got.TraceDigest, want.TraceDigest)
	}
	// Through RunLive: one warning naming the setting and the reason.
	prof, err := ReplayProfile()
	if err != nil {
		t.Fatal(err)
	}
	prof.Feed.Kind, prof.Feed.MoldUDP64 = "moldudp64", feed
	prof.Feed.MoldUDP64.Date = "2019-12-30"
	off := false
	prof.Journal.Enabled = &off
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the feed starts, the run ends at once
	sum, err := RunLive(ctx, RunOptions{Profile: prof, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if sum == nil {
		t.Fatal(err)
	}
	if strings.Count(logs.String(), "running without the XDP packet counter") != 1 || !strings.Contains(logs.String(), "tl-no-such-if") {
		t.Fatalf("log: %s", logs.String())
	}
	if sum.Records["xdp_unavailable"] != 1 {
		t.Fatalf("records %v", sum.Records)
	}
}
