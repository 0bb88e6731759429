package admin

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"thunderline/actors/eye"
	"thunderline/adapters/synthetic"
	"thunderline/engine"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
)

const edgarData = "../../../shared/data/edgar"

// realtime assembles a pipeline over an endless synthetic feed of symbols
// symbols at rate ticks a second, paced in real time, without a journal.
func realtime(t *testing.T, symbols, rate int) (*engine.Pipeline, engine.Source) {
	t.Helper()
	return realtimeProfile(t, fmt.Sprintf("feed: {pace: realtime, synthetic: {symbols: %d, rate: %d}}\nnormalize: {seq: contiguous}\njournal: {enabled: false}\n",
		symbols, rate), "")
}

// realtimeProfile assembles a pipeline of the profile yml over its
// endless synthetic feed, paced in real time, journaling to journalDir
// when set.
func realtimeProfile(t *testing.T, yml, journalDir string) (*engine.Pipeline, engine.Source) {
	t.Helper()
	prof, err := config.Parse([]byte(yml), "realtime.yaml")
	if err != nil {
		t.Fatal(err)
	}
	syms := record.NewSymbols()
	feed, err := synthetic.New(prof.SyntheticConfig(), syms)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.New(engine.Options{Profile: prof, Symbols: syms, Pacing: engine.PaceRealtime, JournalDir: journalDir})
	if err != nil {
		t.Fatal(err)
	}
	return p, engine.SyntheticSource{Feed: feed}
}

// serve serves be's admin HTTP with tokens until the test ends and returns
// its URL.
func serve(t *testing.T, be *Admin, tokens ...eye.Token) string {
	t.Helper()
	srv, err := eye.New(eye.Options{Addr: "127.0.0.1:0", Tokens: tokens}, be, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return url
}
