package engine

import (
	"context"
	"testing"

	"thunderline/adapters/synthetic"
	"thunderline/engine/config"
	"thunderline/hotpath/record"
)

const (
	dataDir   = "../../shared/data/dbn"
	edgarData = "../../shared/data/edgar"
)

func testProfile(t *testing.T, yaml string) *config.Profile {
	t.Helper()
	p, err := config.Parse([]byte(yaml), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const lateProfile = `
feed: {synthetic: {symbols: 40, seed: 9, bad_ratio: 0.001, burst_every: 2s, burst_length: 300ms}}
normalize: {seq: contiguous}
window: {length: 100ms, overlap: 0.75, allowed_lateness: 5ms, label: {horizon: 300ms, type: class, threshold_bps: 0.5}}
journal: {fsync: never}
`

// runSynthetic runs a bounded synthetic feed through a pipeline journaling
// to dir (if set) and returns the summary.
func runSynthetic(t *testing.T, prof *config.Profile, ticks uint64, parts int, dir string) *Summary {
	t.Helper()
	p, src := newSynthetic(t, prof, ticks, Options{Partitions: parts, JournalDir: dir})
	sum, err := p.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ticks != ticks {
		t.Fatalf("ran %d ticks, want %d", sum.Ticks, ticks)
	}
	return sum
}

// newSynthetic assembles a pipeline of o over prof's synthetic feed, bounded
// to ticks ticks (o's profile and symbols are set here).
func newSynthetic(t *testing.T, prof *config.Profile, ticks uint64, o Options) (*Pipeline, Source) {
	t.Helper()
	o.Profile, o.Symbols = prof, record.NewSymbols()
	sc := prof.SyntheticConfig()
	sc.MaxTicks = ticks
	feed, err := synthetic.New(sc, o.Symbols)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p, SyntheticSource{Feed: feed}
}
