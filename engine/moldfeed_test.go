package engine

import (
	"context"
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
	var session [moldudp64.SessionLen]byte
	copy(session[:], "SNIPPET   ")
	store := moldudp64.NewMemStore(1)
	srv, err := moldudp64.ListenRetransmit("127.0.0.1:0", session, store)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go srv.Serve()

	prof, err := ReplayProfile()
	if err != nil {
		t.Fatal(err)
	}
	feed := config.MoldFeed{Listen: "127.0.0.1:0", Rerequest: srv.Addr(), Date: "2019-12-30"}
	syms := record.NewSymbols()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mf, err := StartMoldFeed(ctx, feed, syms)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Profile: prof, Symbols: syms})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := moldudp64.Dial(mf.Addr(), session)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Store = store
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	go func() {
		// One packet in seven dropped, one in five sent after the next.
		if _, err := feedsim.PublishMold(ctx, itch.NewFileReader(f), pub, feedsim.Options{DropEvery: 7, ReorderEvery: 5}); err != nil {
			t.Error(err)
		}
	}()
	got, err := p.Run(ctx, mf)
	if err != nil {
		t.Fatal(err)
	}
	c := mf.Counts()
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
