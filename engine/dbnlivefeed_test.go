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

// liveDBN runs the replay profile on a live gateway serving file, its
// sessions carrying out faults in order, and returns the summary, the feed
// and the gateway.
func liveDBN(t *testing.T, file string, faults ...dbnlive.Fault) (*Summary, *DBNLiveFeed, *dbnlive.Server) {
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
	srv.Inject(faults...)
	t.Setenv("TL_TEST_DBN_KEY", key)
	prof, err := ReplayProfile()
	if err != nil {
		t.Fatal(err)
	}
	syms := record.NewSymbols()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	feed, err := StartDBNLiveFeed(ctx, config.DBNLive{Addr: srv.Addr(), Dataset: "GLBX.MDP3", Schema: "mbo", Symbols: []string{"ALL_SYMBOLS"},
		KeyEnv: "TL_TEST_DBN_KEY"}, syms)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Profile: prof, Symbols: syms})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(ctx, feed)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s: the run ended by its deadline, not at the capture's end", file)
	}
	return sum, feed, srv
}

// TestLiveDBNEqualsFile: Databento captures served by a live gateway (CRAM
// handshake, subscription, DBN stream) give the ticks, windows and traces
// of replaying the file; with the connection reset twice mid-stream, the
// feed resumes from its last tick's event time, drops what the replay
// repeats, and nothing is lost or delivered twice: the same digests.
func TestLiveDBNEqualsFile(t *testing.T) {
	for _, c := range []struct {
		file    string
		windows bool     // the capture spans windows (ESH4 is one snapshot instant)
		cuts    [2]int64 // records each faulty session sends before its reset
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
		got, feed, srv := liveDBN(t, file)
		same("live", got)
		// The end: one resumed session that brought nothing new, every
		// record of it a repeat (ESH4: all 8,725 at one event time).
		if srv.Sessions.Load() != 2 || feed.Stats.Duplicates.Load() == 0 || feed.Counts()["dbn_live_sessions"] != 2 {
			t.Fatalf("%s: sessions %d, duplicates %d, counts %v", c.file, srv.Sessions.Load(), feed.Stats.Duplicates.Load(), feed.Counts())
		}
		got, feed, srv = liveDBN(t, file, dbnlive.Fault{After: c.cuts[0]}, dbnlive.Fault{After: c.cuts[1]})
		same("live with two resets", got)
		st := &feed.Stats
		if srv.Faults.Load() != 2 || st.Reconnects.Load() != 3 || srv.Sessions.Load() != 4 || st.Mismatches.Load() != 0 || st.Duplicates.Load() == 0 {
			t.Fatalf("%s, two resets: faults %d, reconnects %d, sessions %d, mismatches %d, duplicates %d", c.file, srv.Faults.Load(),
				st.Reconnects.Load(), srv.Sessions.Load(), st.Mismatches.Load(), st.Duplicates.Load())
		}
	}
}

// TestLiveDBNRefusals: a wrong key is refused by the gateway (counted
// there) and the feed does not start, with an error naming the refusal and
// the key only by its last five characters; a key_env that is not set is
// an error naming the field.
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
	cfg := config.DBNLive{Addr: srv.Addr(), Dataset: "GLBX.MDP3", Schema: "mbo", Symbols: []string{"ESH4"}, KeyEnv: "TL_TEST_DBN_KEY"}
	_, err = StartDBNLiveFeed(context.Background(), cfg, record.NewSymbols())
	if !errors.Is(err, dbnlive.ErrAuth) || !strings.Contains(err.Error(), "Authentication failed") || !strings.Contains(err.Error(), "WRONG") ||
		strings.Contains(err.Error(), "wrongkey") {
		t.Fatalf("wrong key: %v", err)
	}
	if srv.Refused.Load() != 1 || srv.Sessions.Load() != 0 {
		t.Fatalf("gateway: refused %d, sessions %d", srv.Refused.Load(), srv.Sessions.Load())
	}
	cfg.KeyEnv = "TL_TEST_DBN_KEY_UNSET"
	if _, err = StartDBNLiveFeed(context.Background(), cfg, record.NewSymbols()); err == nil || !strings.Contains(err.Error(), "feed.dbn_live.key_env") {
		t.Fatalf("unset key_env: %v", err)
	}
}
