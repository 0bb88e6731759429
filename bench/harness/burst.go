package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"thunderline/engine"
	"thunderline/engine/config"
)

var (
	burstFor  = flag.Duration("burst-for", 6*time.Second, "wall time of each latency-under-bursts run")
	burstOnly = flag.Bool("burst-only", false, "run only the latency-under-bursts rows and picture")
	svgDir    = flag.String("svg-dir", "", "write the burst timeline picture (burst-timeline.svg) into this directory")
)

// Burst runs: the synthetic feed paced in real time at 100,000 ticks/s over
// 16 symbols, bursts of 200 ms every 2 s at the given multiplier (1 = no
// bursts), two partitions, the ladder running, and the journal on with each
// codec or off.
const (
	burstRate   = 100_000
	burstEvery  = 2 * time.Second
	burstLength = 200 * time.Millisecond
	sampleEvery = 10 * time.Millisecond
)

type burstRow struct {
	mult           int
	codec          string
	traces         uint64
	p50, p99, p999 int64
	ticks, lost    uint64
	verify         string
}

// sample is one point of a run's timeline.
type sample struct {
	at      time.Duration // since the run started
	ticks   uint64        // ticks dispatched in the interval
	latMax  int64         // worst close → trace latency of traces made in the interval (ns; 0: none)
	latP50  int64
	backlog uint64 // ticks in the partition rings
	step    int64  // ladder step
	// Live feed runs: packet receipt → trace, worst and median in the
	// interval (ns; 0: none).
	wireMax, wireP50 int64
}

func burstProfile(mult int, codec, dir string) (*config.Profile, error) {
	feed := fmt.Sprintf("synthetic: {rate: %d, symbols: 16", burstRate)
	if mult <= 1 {
		feed += ", no_bursts: true}"
	} else {
		feed += fmt.Sprintf(", burst_every: %s, burst_length: %s, burst_multiplier: %d}", burstEvery, burstLength, mult)
	}
	yml := "feed: {pace: realtime, " + feed + "}\nnormalize: {seq: contiguous}\npartitions: 2\nladder: {interval: 100ms}\n"
	if codec == "off" {
		yml += "journal: {enabled: false}\n"
	} else {
		yml += fmt.Sprintf("journal: {dir: %s, compression: %s}\n", dir, codec)
	}
	return config.Parse([]byte(yml), "burst")
}

// burstRun runs one configuration, sampling its timeline, and checks that no
// tick was lost and (journal on) that replay --verify passes on its journal.
func burstRun(mult int, codec, tmp string, d time.Duration) (burstRow, []sample, error) {
	dir := filepath.Join(tmp, fmt.Sprintf("burst-%d-%s", mult, codec))
	prof, err := burstProfile(mult, codec, dir)
	if err != nil {
		return burstRow{}, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		wg      sync.WaitGroup
		samples []sample
	)
	started := func(p *engine.Pipeline) error {
		l, err := p.RunLadder(ctx, nil)
		if err != nil {
			return err
		}
		wg.Go(func() {
			t0 := time.Now()
			tk := time.NewTicker(sampleEvery)
			defer tk.Stop()
			var from, prevTicks uint64
			var lat []int64
			for {
				select {
				case <-ctx.Done():
					return
				case <-tk.C:
				}
				pr := p.Snapshot(t0)
				lat, from = p.Stage().LatencySince(from, lat[:0])
				s := sample{at: time.Since(t0), ticks: pr.Ticks - prevTicks, backlog: pr.Backlog, step: l.Step.Load()}
				prevTicks = pr.Ticks
				if len(lat) > 0 {
					slices.Sort(lat)
					s.latMax, s.latP50 = lat[len(lat)-1], lat[len(lat)/2]
				}
				samples = append(samples, s)
			}
		})
		return nil
	}
	sum, err := engine.RunLive(ctx, engine.RunOptions{Profile: prof, For: d, Started: started})
	cancel()
	wg.Wait()
	if err != nil {
		return burstRow{}, nil, err
	}
	row := burstRow{mult: mult, codec: codec, ticks: sum.Ticks, verify: "no journal"}
	if x := sum.Decisions; x != nil {
		row.traces, row.p50, row.p99, row.p999 = x.LatencyCount, x.LatencyP50, x.LatencyP99, x.LatencyP999
	}
	row.lost, row.verify = lostAndVerified(sum, dir, row.verify)
	return row, samples, nil
}

// lostAndVerified returns the ticks a run lost (dispatched, neither applied
// nor rejected) and, with a journal, whether replay --verify passes on it
// (the journal directory dir is removed after); else noJournal.
func lostAndVerified(sum *engine.Summary, dir, noJournal string) (lost uint64, verify string) {
	processed := sum.Applied
	for _, n := range sum.Rejects {
		processed += n
	}
	lost, verify = sum.Ticks-min(processed, sum.Ticks), noJournal
	if sum.Journal != nil {
		v, err := engine.Replay(context.Background(), []string{sum.Journal.Dir}, engine.ReplayOptions{Verify: true})
		switch {
		case err != nil:
			verify = "error: " + err.Error()
		case v.Verify == nil || !v.Verify.OK():
			verify = "FAILED"
		default:
			verify = "passed"
		}
		os.RemoveAll(dir)
	}
	return lost, verify
}

// burstSection runs the matrix (multipliers × journal codecs) and returns the
// markdown table; the 10× zstd run's timeline becomes the picture.
func burstSection(tmp string) (string, error) {
	var rows []burstRow
	var picture []sample
	for _, mult := range []int{1, 10, 100} {
		for _, codec := range []string{"zstd", "s2", "none", "off"} {
			fmt.Fprintf(os.Stderr, "burst run: %d× bursts, journal %s, %v\n", mult, codec, *burstFor)
			row, samples, err := burstRun(mult, codec, tmp, *burstFor)
			if err != nil {
				return "", fmt.Errorf("burst run %d× %s: %w", mult, codec, err)
			}
			rows = append(rows, row)
			if mult == 10 && codec == "zstd" {
				picture = samples
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nLatency under bursts: window close → DecisionTrace (synthetic feed paced in real time, %d ticks/s, 16 symbols, "+
		"bursts of %v every %v at the multiplier, 2 partitions, ladder on, %v per run; ratio = p99 / p99 of the same multiplier with the journal off):\n\n",
		burstRate, burstLength, burstEvery, *burstFor)
	fmt.Fprintf(&b, "| bursts | journal | traces | p50 | p99 | p99.9 | p99 ratio to journal off | ticks | ticks lost | replay --verify |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		var off int64
		for _, o := range rows {
			if o.mult == r.mult && o.codec == "off" {
				off = o.p99
			}
		}
		ratio := "—"
		if off > 0 {
			ratio = fmt.Sprintf("%.2f", float64(r.p99)/float64(off))
		}
		us := func(ns int64) string { return time.Duration(ns).Round(time.Microsecond).String() }
		fmt.Fprintf(&b, "| %d× | %s | %d | %s | %s | %s | %s | %d | %d | %s |\n", r.mult, r.codec, r.traces, us(r.p50), us(r.p99), us(r.p999),
			ratio, r.ticks, r.lost, r.verify)
	}
	if *svgDir != "" && len(picture) > 0 {
		path := filepath.Join(*svgDir, "burst-timeline.svg")
		if err := os.WriteFile(path, timelineSVG(picture, "10× bursts, zstd journal"), 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\nTimeline of the 10× zstd run: %s\n", path)
	}
	return b.String(), nil
}
