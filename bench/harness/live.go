package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"thunderline/adapters/feedsim"
	"thunderline/adapters/moldudp64"
	"thunderline/engine"
	"thunderline/engine/config"
)

var (
	liveFor  = flag.Duration("live-for", 5*time.Second, "wall time of each live MoldUDP64 run")
	liveOnly = flag.Bool("live-only", false, "run only the live MoldUDP64 rows and picture")
)

// liveBatch is the messages a packet carries: about 1,000 bytes of
// adds, executions and deletes, as full Nasdaq packets go.
const liveBatch = 32

// liveRow is one live MoldUDP64 run: feed-sim's synthetic session over
// loopback at a rate, received by the engine (colocated settings).
type liveRow struct {
	rate                    float64
	xdp                     string
	channels                int
	steering                string // "": one channel; ebpf or off
	loops                   uint64
	sent, delivered, lost   uint64
	xdpPackets, datagrams   uint64
	unrouted, unsteered     uint64
	wire50, wire99, wire999 int64
	close50, close99        int64
	traces                  uint64
	load                    string
}

// liveCfg says what a live run receives.
type liveCfg struct {
	rate     float64
	xdp      bool
	channels int           // 0 or 1: one channel
	steering string        // with channels: ebpf or off
	window   time.Duration // window length [250ms]
}

// liveRun publishes rate messages a second for d to a live feed on
// loopback (16 symbols, 8 messages a packet) and runs the engine on it
// with the colocated profile's loops (yield waits, 2 partitions, journal
// off), the XDP counter on lo when xdp is set.
func liveRun(rate float64, xdp bool, d time.Duration) (liveRow, []sample, error) {
	return liveRunCfg(liveCfg{rate: rate, xdp: xdp}, d)
}

// liveRunCfg is liveRun of c: with c.channels > 1 feed-sim shards the
// session by stock locate over that many MoldUDP64 sessions from one
// socket, and the engine receives them with c.steering.
func liveRunCfg(lc liveCfg, d time.Duration) (liveRow, []sample, error) {
	rate, xdp := lc.rate, lc.xdp
	port, err := freeUDPPort()
	if err != nil {
		return liveRow{}, nil, err
	}
	x := ""
	if xdp {
		x = ", xdp: {interface: lo, mode: generic}"
	}
	names := []string{"BENCH"}
	if lc.channels > 1 {
		names = names[:0]
		var cs []string
		for i := 1; i <= lc.channels; i++ {
			names = append(names, fmt.Sprintf("BENCH%d", i))
			cs = append(cs, fmt.Sprintf("{session: BENCH%d}", i))
		}
		x += fmt.Sprintf(", steering: %s, channels: [%s]", lc.steering, strings.Join(cs, ", "))
	}
	win := lc.window
	if win == 0 {
		win = 250 * time.Millisecond
	}
	prof, err := config.Parse([]byte(fmt.Sprintf(`feed: {kind: moldudp64, moldudp64: {listen: "127.0.0.1:%d", date: "2026-12-04"%s}}
partitions: 2
rings: {wait: yield}
normalize: {seq: monotonic}
window: {length: %v, overlap: 0.5, allowed_lateness: 2ms}
journal: {enabled: false}
`, port, x, win)), "live")
	if err != nil {
		return liveRow{}, nil, err
	}
	row := liveRow{rate: rate, xdp: "off", channels: len(names), steering: lc.steering}
	if xdp {
		row.xdp = "generic, lo"
	}
	synth, err := feedsim.NewSynthITCH(feedsim.SynthConfig{Symbols: 16, Rate: rate, Messages: uint64(rate * d.Seconds())})
	if err != nil {
		return row, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		wg      sync.WaitGroup
		samples []sample
		st      feedsim.Stats
		pubErr  error
	)
	started := func(p *engine.Pipeline) error {
		first, err := moldudp64.Dial(fmt.Sprintf("127.0.0.1:%d", port), moldudp64.MakeSession(names[0]))
		if err != nil {
			return err
		}
		pubs := []*moldudp64.Publisher{first}
		for _, n := range names[1:] {
			pubs = append(pubs, first.Channel(moldudp64.MakeSession(n))) // one source socket
		}
		for _, p := range pubs {
			p.Store = nil // nothing is re-requested on loopback: a loss is a loss
		}
		wg.Go(func() {
			defer first.Close()
			st, pubErr = feedsim.PublishMoldChannels(ctx, synth, pubs, feedsim.Options{Rate: rate, PacketMessages: liveBatch})
		})
		wg.Go(func() { samples = sampleLive(ctx, p) })
		return nil
	}
	sum, err := engine.RunLive(ctx, engine.RunOptions{Profile: prof, For: d + 5*time.Second, Started: started})
	cancel()
	wg.Wait()
	if err != nil {
		return row, nil, err
	}
	if pubErr != nil && pubErr != context.Canceled {
		return row, nil, pubErr
	}
	row.load = loadAvg()
	row.sent, row.delivered, row.lost = st.Messages, sum.Records["mold_messages"], sum.Records["mold_lost"]
	row.xdpPackets, row.datagrams = sum.Records["xdp_packets"], sum.Records["mold_feed_datagrams"]
	row.loops, row.unrouted, row.unsteered = max(1, sum.Records["mold_loops"]), sum.Records["mold_unrouted"], sum.Records["steer_unavailable"]
	if dd := sum.Decisions; dd != nil {
		row.wire50, row.wire99, row.wire999 = dd.WireP50, dd.WireP99, dd.WireP999
		row.close50, row.close99, row.traces = dd.LatencyP50, dd.LatencyP99, dd.WireCount
	}
	return row, samples, nil
}

// sampleLive samples a live run's timeline every sampleEvery until ctx ends.
func sampleLive(ctx context.Context, p *engine.Pipeline) []sample {
	var out []sample
	t0 := time.Now()
	tk := time.NewTicker(sampleEvery)
	defer tk.Stop()
	var from, wfrom, prevTicks uint64
	var lat, wire []int64
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tk.C:
		}
		pr := p.Snapshot(t0)
		s := sample{at: time.Since(t0), ticks: pr.Ticks - prevTicks, backlog: pr.Backlog}
		prevTicks = pr.Ticks
		if st := p.Stage(); st != nil {
			lat, from = st.LatencySince(from, lat[:0])
			wire, wfrom = st.WireLatencySince(wfrom, wire[:0])
			if len(lat) > 0 {
				slices.Sort(lat)
				s.latMax, s.latP50 = lat[len(lat)-1], lat[len(lat)/2]
			}
			if len(wire) > 0 {
				slices.Sort(wire)
				s.wireMax, s.wireP50 = wire[len(wire)-1], wire[len(wire)/2]
			}
		}
		out = append(out, s)
	}
}

func freeUDPPort() (int, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// liveSection runs 100 k and 1 M messages a second, XDP counter off and
// on, and returns the markdown (and the 1 M run's picture).
func liveSection() (string, error) {
	var rows []liveRow
	var picture []sample
	for _, rate := range []float64{100_000, 1_000_000} {
		for _, xdp := range []bool{false, true} {
			fmt.Fprintf(os.Stderr, "live run: %.0f messages/s, XDP %v, %v\n", rate, xdp, *liveFor)
			r, s, err := liveRun(rate, xdp, *liveFor)
			if err != nil {
				return "", fmt.Errorf("live run %.0f/s: %w", rate, err)
			}
			rows = append(rows, r)
			if rate == 1_000_000 && !xdp {
				picture = s
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nLive MoldUDP64 over loopback: feed-sim's synthetic ITCH session (16 symbols, %d messages a packet, paced at the rate, no re-request server) "+
		"received by the engine with yield waits, 2 partitions, journal off, %v per run. Packet → trace: from the kernel's receive stamp (SO_TIMESTAMPNS) of "+
		"the packet whose tick closed the window to its DecisionTrace.\n\n", liveBatch, *liveFor)
	fmt.Fprintf(&b, "| rate | XDP counter | sent | delivered | lost | XDP packets / socket datagrams | packet→trace p50 | p99 | p99.9 | close→trace p50 | p99 | traces | load avg |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	us := func(ns int64) string { return time.Duration(ns).Round(time.Microsecond).String() }
	for _, r := range rows {
		xp := "—"
		if r.xdp != "off" {
			xp = fmt.Sprintf("%d / %d", r.xdpPackets, r.datagrams)
		}
		fmt.Fprintf(&b, "| %.0f/s | %s | %d | %d | %d | %s | %s | %s | %s | %s | %s | %d | %s |\n", r.rate, r.xdp, r.sent, r.delivered, r.sent-min(r.delivered, r.sent),
			xp, us(r.wire50), us(r.wire99), us(r.wire999), us(r.close50), us(r.close99), r.traces, r.load)
	}
	if *svgDir != "" && len(picture) > 0 {
		svg := drawLiveTimeline(picture, "live MoldUDP64, 1 M messages/s")
		path := filepath.Join(*svgDir, "live-timeline.svg")
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\nTimeline of the 1 M messages/s run (XDP off): %s\n", path)
	}
	return b.String(), nil
}

// drawLiveTimeline draws a live run's timeline: ticks/s, packet → trace,
// close → trace and the ring backlog, each 10 ms.
func drawLiveTimeline(picture []sample, title string) []byte {
	per := float64(time.Second) / float64(sampleEvery)
	return drawTimeline(picture, title, []panel{
		{"feed", "ticks/s", []series{{"ticks/s", "#555", func(x sample) float64 { return float64(x.ticks) * per }}}},
		{"packet → trace", "ms", []series{
			{"worst in 10 ms", "#d62728", func(x sample) float64 { return float64(x.wireMax) / 1e6 }},
			{"median in 10 ms", "#1f77b4", func(x sample) float64 { return float64(x.wireP50) / 1e6 }},
		}},
		{"close → trace", "ms", []series{
			{"worst in 10 ms", "#d62728", func(x sample) float64 { return float64(x.latMax) / 1e6 }},
			{"median in 10 ms", "#1f77b4", func(x sample) float64 { return float64(x.latP50) / 1e6 }},
		}},
		{"ring backlog", "ticks", []series{{"backlog", "#2ca02c", func(x sample) float64 { return float64(x.backlog) }}}},
	})
}
