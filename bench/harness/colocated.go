package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"thunderline/engine"
	"thunderline/engine/config"
)

var (
	colocatedFor  = flag.Duration("colocated-for", 20*time.Second, "wall time of each colocated-profile run")
	colocatedOnly = flag.Bool("colocated-only", false, "run only the colocated-profile rows")
)

// stallProbe measures the machine itself for d: one goroutine per CPU spins
// reading the clock, and every gap between two reads longer than 20 µs is a
// stall (the vCPU was descheduled by the hypervisor, or the thread by the
// kernel). A decision that needs the CPUs for 100 µs cannot have a p99
// below what these stalls leave; it is the same-run baseline of the
// colocated rows.
type stallProbe struct {
	over100us, over1ms int     // stalls per CPU, summed
	worst              int64   // ns
	perSec             float64 // stalls over 100 µs per second per CPU
}

func probeStalls(d time.Duration) stallProbe {
	n := runtime.GOMAXPROCS(0)
	var (
		mu sync.Mutex
		p  stallProbe
		wg sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			var o100, o1m int
			var worst int64
			end := time.Now().Add(d)
			last := time.Now()
			for {
				now := time.Now()
				gap := now.Sub(last).Nanoseconds()
				last = now
				switch {
				case gap > int64(time.Millisecond):
					o1m++
					o100++
				case gap > int64(100*time.Microsecond):
					o100++
				}
				worst = max(worst, gap)
				if now.After(end) {
					break
				}
			}
			mu.Lock()
			p.over100us += o100
			p.over1ms += o1m
			p.worst = max(p.worst, worst)
			mu.Unlock()
		})
	}
	wg.Wait()
	p.perSec = float64(p.over100us) / d.Seconds() / float64(n)
	return p
}

type colocatedRow struct {
	rate           float64
	journal        string
	warm           string // stage.warm
	traces         uint64
	p50, p99, p999 int64
	endN           uint64 // windows the end of the input closed, measured apart
	endP99         int64
	lost           uint64
	load           string
	verify         string
}

// colocatedRun runs profiles/colocated.yaml with its synthetic feed at rate
// (no bursts), the journal as the profile has it (s2, fsync every 10 ms) or
// off, and stage.warm as the profile has it (warm) or off (the same-run
// baseline of the warm-up).
func colocatedRun(rate float64, journal, warm bool, tmp string, d time.Duration) (colocatedRow, error) {
	prof, err := config.Load("profiles/colocated.yaml")
	if err != nil {
		return colocatedRow{}, err
	}
	prof.Feed.Synthetic.Rate = rate
	prof.Feed.Synthetic.NoBursts = true
	r := colocatedRow{rate: rate, journal: "s2, fsync 10 ms", verify: "no journal", warm: "50 µs"}
	if !warm {
		prof.Stage.Warm, r.warm = 0, "off"
	}
	dir := filepath.Join(tmp, fmt.Sprintf("colocated-%.0f-warm-%s", rate, strings.ReplaceAll(r.warm, " ", "")))
	if journal {
		prof.Journal.Dir = dir
	} else {
		off := false
		prof.Journal.Enabled = &off
		r.journal = "off"
	}
	sum, err := engine.RunLive(context.Background(), engine.RunOptions{Profile: prof, For: d})
	if err != nil {
		return r, err
	}
	r.load = loadAvg()
	if x := sum.Decisions; x != nil {
		r.traces, r.p50, r.p99, r.p999 = x.LatencyCount, x.LatencyP50, x.LatencyP99, x.LatencyP999
		r.endN, r.endP99 = x.EndCount, x.EndP99
	}
	r.lost, r.verify = lostAndVerified(sum, dir, r.verify)
	return r, nil
}

// loadAvg is the 1-minute load average, as /proc/loadavg has it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// colocatedSection measures the machine's stalls, then the colocated
// profile at 100 k and 1 M ticks/s with the journal on and off, and returns
// the markdown.
func colocatedSection(tmp string) (string, error) {
	d := *colocatedFor
	fmt.Fprintf(os.Stderr, "machine stall probe, %v\n", d)
	probe := probeStalls(d)
	var rows []colocatedRow
	for _, rate := range []float64{100_000, 1_000_000} {
		for _, j := range []bool{true, false} {
			fmt.Fprintf(os.Stderr, "colocated run: %.0f ticks/s, journal %v, %v\n", rate, j, d)
			r, err := colocatedRun(rate, j, true, tmp, d)
			if err != nil {
				return "", fmt.Errorf("colocated run %.0f: %w", rate, err)
			}
			rows = append(rows, r)
			if rate == 1_000_000 && j {
				// The same-run baseline of the warm-up: this run again
				// without it, right after.
				fmt.Fprintf(os.Stderr, "colocated run: %.0f ticks/s, journal %v, stage.warm off, %v\n", rate, j, d)
				r, err := colocatedRun(rate, j, false, tmp, d)
				if err != nil {
					return "", fmt.Errorf("colocated run %.0f without warm-up: %w", rate, err)
				}
				rows = append(rows, r)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nColocated profile (profiles/colocated.yaml: yield waits, 1 partition with the stage inline, 16 symbols, 250 ms windows "+
		"with 50%% overlap), synthetic feed paced in real time without bursts, %v per run. Same-run baseline, the machine itself: "+
		"%d CPU spinners reading the clock for %v saw %.1f stalls over 100 µs per second per CPU (%d over 1 ms in all), the worst %v. "+
		"p50/p99/p99.9 are the windows watermarks closed; the windows the end of the input closed (a run's last boundaries, "+
		"closed at once and routed one after another) are measured apart.\n\n",
		d, runtime.GOMAXPROCS(0), d, probe.perSec, probe.over1ms, time.Duration(probe.worst).Round(time.Microsecond))
	fmt.Fprintf(&b, "| load | journal | stage.warm | traces | p50 | p99 | p99.9 | end of input: traces, p99 | ticks lost | load avg | replay --verify |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	us := func(ns int64) string { return time.Duration(ns).Round(time.Microsecond).String() }
	for _, r := range rows {
		fmt.Fprintf(&b, "| %.0f ticks/s | %s | %s | %d | %s | %s | %s | %d, %s | %d | %s | %s |\n", r.rate, r.journal, r.warm, r.traces,
			us(r.p50), us(r.p99), us(r.p999), r.endN, us(r.endP99), r.lost, r.load, r.verify)
	}
	return b.String(), nil
}
