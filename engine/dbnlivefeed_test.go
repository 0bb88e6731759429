package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"thunderline/adapters/dbnlive"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
)

const dbnData = "../../shared/data/dbn"

// liveDBN runs the replay profile on a live gateway serving file, cutting
// the connection after each of cuts records counts, and returns the
// summary and the feed.
func liveDBN(t *testing.T, file string, cuts ...int64) (*Summary, *DBNLiveFeed, *dbnlive.Server) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	const key = "db-testkey0000000000000ABCDE"
	srv, err := dbnlive.NewServer("127.0.0.1:0", key, "GLBX.MDP3", b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	t.Setenv("TL_TEST_DBN_KEY", key)
	prof, err := ReplayProfile()
	if err != nil {
		t.Fatal(err)
	}
	syms := record.NewSymbols()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if len(cuts) > 0 {
		srv.CutAfter.Store(cuts[0])
	}
	feed, err := StartDBNLiveFeed(ctx, config.DBNLive{Addr: srv.Addr(), Dataset: "GLBX.MDP3", Schema: "mbo", Symbols: []string{"ALL_SYMBOLS"},
		KeyEnv: "TL_TEST_DBN_KEY"}, syms)
	if err != nil {
		t.Fatal(err)
	}
	if len(cuts) > 1 {
		// The next cut, once the first has happened.
		go func() {
			for _, c := range cuts[1:] {
				for srv.CutAfter.Load() != 0 && ctx.Err() == nil {
					time.Sleep(time.Millisecond)
				}
				srv.CutAfter.Store(c)
			}
		}()
	}
	p, err := New(Options{Profile: prof, Symbols: syms})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(ctx, feed)
	if err != nil {
		t.Fatal(err)
	}
	return sum, feed, srv
}

// TestLiveDBNEqualsFile: Databento's ESH4 MBO capture served by a live
// gateway (CRAM handshake, subscription, DBN stream) gives the ticks,
// windows and traces of replaying the file; with the connection reset
// twice mid-stream, the feed resumes from its last tick's time and
// nothing is lost or delivered twice: the same digests.
func TestLiveDBNEqualsFile(t *testing.T) {
	for _, c := range []struct {
		file    string
		windows bool     // the capture spans windows (ESH4 is one snapshot instant)
		cuts    [2]int64 // records before each reset
	}{
		{"esh4-glbx-mdp3-20231224.mbo.dbn.zst", false, [2]int64{3000, 2500}},
		{"futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst", true, [2]int64{700, 900}},
	} {
		file := filepath.Join(dbnData, c.file)
		want, err := Replay(context.Background(), []string{file}, ReplayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		same := func(what string, got *Summary) {
			t.Helper()
			if got.Ticks != want.Ticks || got.WindowDigest != want.WindowDigest || got.TraceDigest != want.TraceDigest || got.Ticks == 0 ||
				got.Windows != want.Windows || (c.windows && (got.Windows == 0 || got.Traces == 0)) {
				t.Fatalf("%s %s: ticks %d windows %d %s/%s; file: ticks %d windows %d %s/%s", c.file, what, got.Ticks, got.Windows,
					got.WindowDigest, got.TraceDigest, want.Ticks, want.Windows, want.WindowDigest, want.TraceDigest)
			}
		}
		got, _, srv := liveDBN(t, file)
		same("live", got)
		if srv.Sessions.Load() != 2 { // the end: one resumed session that brought nothing new
			t.Fatalf("%s: sessions %d", c.file, srv.Sessions.Load())
		}
		got, feed, srv := liveDBN(t, file, c.cuts[0], c.cuts[1])
		same("live with two resets", got)
		if feed.Reconnects.Load() < 3 || srv.Sessions.Load() < 4 {
			t.Fatalf("%s, two resets: reconnects %d, sessions %d", c.file, feed.Reconnects.Load(), srv.Sessions.Load())
		}
	}
}

// TestLiveDBNRefusals: a wrong key is refused by the gateway and the feed
// does not start (the error names the key only by its last five
// characters); a gateway that is not one is a protocol error.
func TestLiveDBNRefusals(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(dbnData, "esh4-glbx-mdp3-20231224.mbo.dbn.zst"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dbnlive.NewServer("127.0.0.1:0", "db-rightkey000000000000RIGHT", "GLBX.MDP3", b)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("TL_TEST_DBN_KEY", "db-wrongkey000000000000WRONG")
	_, err = StartDBNLiveFeed(context.Background(), config.DBNLive{Addr: srv.Addr(), Dataset: "GLBX.MDP3", Schema: "mbo",
		Symbols: []string{"ESH4"}, KeyEnv: "TL_TEST_DBN_KEY"}, record.NewSymbols())
	if !errors.Is(err, dbnlive.ErrAuth) || !strings.Contains(err.Error(), "WRONG") || strings.Contains(err.Error(), "wrongkey") {
		t.Fatalf("wrong key: %v", err)
	}
	if srv.Refused.Load() != 1 {
		t.Fatalf("gateway refusals %d", srv.Refused.Load())
	}
}
