package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var (
	steerOnly     = flag.Bool("steer-only", false, "run only the multi-channel MoldUDP64 rows (eBPF steering on and off) and picture")
	steerChannels = flag.Int("steer-channels", 4, "MoldUDP64 channels of the steering rows")
)

// steerSection runs, at 100 k and 1 M messages a second, the synthetic
// session on one channel (the same-run baseline), then sharded over
// -steer-channels channels from one source socket, received with eBPF
// steering (a socket and loop per channel) and without (one socket, one
// loop); it returns the markdown and writes the steered 1 M run's
// picture.
func steerSection() (string, error) {
	n := *steerChannels
	var rows []liveRow
	var picture []sample
	for _, rate := range []float64{100_000, 1_000_000} {
		for _, c := range []liveCfg{{rate: rate}, {rate: rate, channels: n, steering: "off"}, {rate: rate, channels: n, steering: "ebpf"}} {
			fmt.Fprintf(os.Stderr, "steer run: %.0f messages/s, %d channels, steering %q, %v\n", rate, max(1, c.channels), c.steering, *liveFor)
			r, s, err := liveRunCfg(c, *liveFor)
			if err != nil {
				return "", fmt.Errorf("steer run %.0f/s %d channels %s: %w", rate, c.channels, c.steering, err)
			}
			rows = append(rows, r)
			if rate == 1_000_000 && c.steering == "ebpf" {
				picture = s
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nSeveral MoldUDP64 channels on one port: feed-sim's synthetic session (16 symbols, %d messages a packet, paced at the rate) "+
		"sharded by stock locate over %d sessions sent from one socket, received by the engine with yield waits (feed sockets busy-polled), 2 partitions, "+
		"journal off, %v per run. Steering ebpf: a SO_REUSEPORT socket and a receiving loop per channel, the SK_REUSEPORT program sending each datagram "+
		"to its channel's socket; off: one socket and one loop for every channel. Ratio: packet→trace p50 and p99 over the one-channel run at the same rate "+
		"(same invocation).\n\n", liveBatch, n, *liveFor)
	fmt.Fprintf(&b, "| rate | channels | steering | loops | sent | delivered | lost | unrouted | packet→trace p50 | p99 | p99.9 | p50 / p99 ratio to 1 channel | close→trace p50 | p99 | traces | load avg |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	us := func(ns int64) string { return time.Duration(ns).Round(time.Microsecond).String() }
	var base liveRow
	for _, r := range rows {
		steer := r.steering
		switch {
		case steer == "":
			steer, base = "—", r
		case r.unsteered > 0:
			steer += " (refused: ran off)"
		}
		ratio := "1 (baseline)"
		if r.steering != "" && base.wire50 > 0 && base.wire99 > 0 {
			ratio = fmt.Sprintf("%.2f / %.2f", float64(r.wire50)/float64(base.wire50), float64(r.wire99)/float64(base.wire99))
		}
		fmt.Fprintf(&b, "| %.0f/s | %d | %s | %d | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %d | %s |\n", r.rate, r.channels, steer, r.loops,
			r.sent, r.delivered, r.sent-min(r.delivered, r.sent), r.unrouted, us(r.wire50), us(r.wire99), us(r.wire999), ratio,
			us(r.close50), us(r.close99), r.traces, r.load)
	}
	if *svgDir != "" && len(picture) > 0 {
		svg := drawLiveTimeline(picture, fmt.Sprintf("live MoldUDP64, %d channels, eBPF steering, 1 M messages/s", n))
		path := filepath.Join(*svgDir, "steer-timeline.svg")
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\nTimeline of the 1 M messages/s run with steering: %s\n", path)
	}
	return b.String(), nil
}
