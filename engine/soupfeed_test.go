package engine

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"thunderline/adapters/soupbintcp"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
)

// TestLiveSoupFeedEqualsFile: Nasdaq's 2019-12-30 sample served over
// SoupBinTCP, the link cut twice while the engine reads it: the client
// logs in again and resumes at its next sequence number, and the run
// gives exactly the file replay's ticks, windows and decisions.
func TestLiveSoupFeedEqualsFile(t *testing.T) {
	file := filepath.Join(itchData, "12302019_SNIPPET.NASDAQ_ITCH50")
	want, err := Replay(context.Background(), []string{file}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	log := soupbintcp.NewLog("SNIPPET")
	srv, err := soupbintcp.Listen("127.0.0.1:0", soupbintcp.ServerConfig{Log: log, Users: map[string]string{"thundr": "pw-1234"},
		Heartbeat: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("TEST_SOUP_PASSWORD", "pw-1234")
	prof, err := ReplayProfile()
	if err != nil {
		t.Fatal(err)
	}
	syms := record.NewSymbols()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sf, err := StartSoupFeed(ctx, config.SoupFeed{Addr: srv.Addr(), Username: "thundr", PasswordEnv: "TEST_SOUP_PASSWORD", Date: "2019-12-30"}, syms)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Profile: prof, Symbols: syms})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		n := 0
		for off := 0; off < len(raw); n++ {
			l := int(binary.BigEndian.Uint16(raw[off:]))
			if _, err := log.Append(raw[off+2 : off+2+l]); err != nil {
				t.Error(err)
				return
			}
			off += 2 + l
			if n == 300 || n == 700 {
				// Break a live session: the one logged in after the last
				// drop, once it has sent messages.
				logins := uint64(1)
				if n == 700 {
					logins = 2
				}
				for srv.Stats.Logins.Load() < logins || srv.Stats.Messages.Load() < uint64(n-100) {
					time.Sleep(time.Millisecond)
				}
				srv.DropAll() // the link breaks: the client resumes
			}
		}
		log.End()
	}()
	got, err := p.Run(ctx, sf)
	if err != nil {
		t.Fatal(err)
	}
	c := sf.Counts()
	if c["soup_reconnects"] < 2 || c["A"] != want.Records["A"] || c["unknown_order_ref"] != want.Records["unknown_order_ref"] {
		t.Fatalf("counts %v (file %v)", c, want.Records)
	}
	if got.Ticks != want.Ticks || got.WindowDigest != want.WindowDigest || got.TraceDigest != want.TraceDigest {
		t.Fatalf("live: ticks %d %s/%s; file: ticks %d %s/%s", got.Ticks, got.WindowDigest, got.TraceDigest, want.Ticks, want.WindowDigest, want.TraceDigest)
	}
}
