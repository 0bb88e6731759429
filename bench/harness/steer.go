package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

var (
	steerOnly     = flag.Bool("steer-only", false, "run only the multi-channel MoldUDP64 rows (eBPF steering on and off) and picture")
	steerChannels = flag.Int("steer-channels", 4, "MoldUDP64 channels of the steering rows")
	steerRounds   = flag.Int("steer-rounds", 3, "rounds of the steering rows (each round runs every row once, interleaved)")
)

// steerWindow is the steering rows' window length: 100 ms windows (50 ms
// apart) give about 320 traces a second over 16 symbols, enough for a
// p99.9 that is not the single worst trace.
const steerWindow = 100 * time.Millisecond

// steerSection runs, at 100 k and 1 M messages a second, the synthetic
// session on one channel (the same-run baseline), then sharded over
// -steer-channels channels from one source socket, received with eBPF
// steering (a socket and loop per channel) and without (one socket, one
// loop); -steer-rounds rounds, interleaved. It returns the markdown (the
// median of the rounds per row, and each round's p99) and writes the
// picture of the last round's steered 1 M run.
func steerSection() (string, error) {
	n := *steerChannels
	cfgs := []liveCfg{{}, {channels: n, steering: "off"}, {channels: n, steering: "ebpf"}}
	rates := []float64{100_000, 1_000_000}
	runs := make([][][]liveRow, len(rates)) // rate, config, round
	for i := range runs {
		runs[i] = make([][]liveRow, len(cfgs))
	}
	var picture []sample
	for round := range *steerRounds {
		for ri, rate := range rates {
			for ci, c := range cfgs {
				c.rate, c.window = rate, steerWindow
				fmt.Fprintf(os.Stderr, "steer run %d: %.0f messages/s, %d channels, steering %q, %v\n", round+1, rate, max(1, c.channels), c.steering, *liveFor)
				r, s, err := liveRunCfg(c, *liveFor)
				if err != nil {
					return "", fmt.Errorf("steer run %.0f/s %d channels %s: %w", rate, c.channels, c.steering, err)
				}
				runs[ri][ci] = append(runs[ri][ci], r)
				if rate == 1_000_000 && c.steering == "ebpf" {
					picture = s
				}
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nSeveral MoldUDP64 channels on one port: feed-sim's synthetic session (16 symbols, %d messages a packet, paced at the rate) "+
		"sharded by stock locate over %d sessions sent from one socket, received by the engine with yield waits (feed sockets busy-polled), "+
		"2 partitions, %v windows, journal off, %v per run, %d rounds (each runs every row once, interleaved). Steering ebpf: a SO_REUSEPORT "+
		"socket and a receiving loop per channel, the SK_REUSEPORT program sending each datagram to its channel's socket; off: one socket "+
		"and one loop for every channel. Latencies are the median of the rounds; ratio: that median over the one-channel row's at the same "+
		"rate (same invocation).\n\n", liveBatch, n, steerWindow, *liveFor, *steerRounds)
	fmt.Fprintf(&b, "| rate | channels | steering | loops | sent | delivered | lost | unrouted | packet→trace p50 | p99 | p99.9 | p99 of each round | ratio p50 / p99 to 1 channel | close→trace p50 | p99 | traces | load avg |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	us := func(ns int64) string { return time.Duration(ns).Round(time.Microsecond).String() }
	med := func(rs []liveRow, f func(liveRow) int64) int64 {
		v := make([]int64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	for ri, rate := range rates {
		base := runs[ri][0]
		b50, b99 := med(base, func(r liveRow) int64 { return r.wire50 }), med(base, func(r liveRow) int64 { return r.wire99 })
		for ci, c := range cfgs {
			rs := runs[ri][ci]
			var sent, delivered, unrouted, unsteered, traces uint64
			var p99s, loads []string
			for _, r := range rs {
				sent, delivered, unrouted, unsteered, traces = sent+r.sent, delivered+r.delivered, unrouted+r.unrouted, unsteered+r.unsteered, traces+r.traces
				p99s, loads = append(p99s, us(r.wire99)), append(loads, r.load)
			}
			w50, w99 := med(rs, func(r liveRow) int64 { return r.wire50 }), med(rs, func(r liveRow) int64 { return r.wire99 })
			steer, ratio := c.steering, "1 (baseline)"
			if steer == "" {
				steer = "—"
			} else {
				ratio = fmt.Sprintf("%.2f / %.2f", float64(w50)/float64(b50), float64(w99)/float64(b99))
			}
			if unsteered > 0 {
				steer += fmt.Sprintf(" (refused %d×: ran off)", unsteered)
			}
			fmt.Fprintf(&b, "| %.0f/s | %d | %s | %d | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", rate, rs[0].channels, steer, rs[0].loops,
				sent, delivered, sent-min(delivered, sent), unrouted, us(w50), us(w99), us(med(rs, func(r liveRow) int64 { return r.wire999 })),
				strings.Join(p99s, ", "), ratio, us(med(rs, func(r liveRow) int64 { return r.close50 })), us(med(rs, func(r liveRow) int64 { return r.close99 })),
				traces, strings.Join(loads, ", "))
		}
	}
	if *svgDir != "" && len(picture) > 0 {
		svg := drawLiveTimeline(picture, fmt.Sprintf("live MoldUDP64, %d channels, eBPF steering, 1 M messages/s", n))
		path := filepath.Join(*svgDir, "steer-timeline.svg")
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\nTimeline of the last round's 1 M messages/s run with steering: %s\n", path)
	}
	return b.String(), nil
}
