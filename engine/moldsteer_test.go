package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"thunderline/adapters/feedsim"
	"thunderline/adapters/itch"
	"thunderline/adapters/moldudp64"
	"thunderline/engine/config"
	"thunderline/hotpath/record"

	"golang.org/x/sys/unix"
)

// TestLiveMoldChannelsSteered: Nasdaq's sample sharded by stock locate over
// three MoldUDP64 channels (feed-sim), all from one source socket to one
// port, one packet in seven of each channel dropped and one in five sent
// late; two channels re-request from a shared server, the third from its
// own. With eBPF steering each channel has its own socket and loop: every
// datagram reached its channel's loop (none refused or unrouted), every
// message of every channel arrived once, each symbol's ticks are exactly
// those of the single-channel file, each channel's gaps are its own
// (counted and journaled), and replay --verify of the journal gives the
// live run's windows, traces and per-channel events.
func TestLiveMoldChannelsSteered(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading BPF needs root")
	}
	r := liveMoldChannels(t, 3, "ebpf", StartMoldFeed)
	if r.counts["mold_loops"] != 3 || r.counts["steer_unavailable"] != 0 {
		t.Fatalf("steered: %v", r.counts)
	}
	r.check(t)
}

// TestLiveMoldChannelsOneLoop: the same three channels with steering off:
// one socket and one loop follow every channel by the session its datagrams
// name. The same per-symbol ticks, per-channel events and journal.
func TestLiveMoldChannelsOneLoop(t *testing.T) {
	r := liveMoldChannels(t, 3, "off", StartMoldFeed)
	if r.counts["mold_loops"] != 1 || r.counts["steer_unavailable"] != 0 {
		t.Fatalf("one loop: %v", r.counts)
	}
	r.check(t)
}

// TestLiveMoldSteerRefused: eBPF steering asked for where the kernel refuses
// the program (here: the feed starts on a thread without CAP_BPF and
// CAP_SYS_ADMIN, so bpf() fails with EPERM) runs without it — every channel
// on one socket and one loop — counts steer_unavailable, says so once in
// the log naming the setting, and gives the same ticks as the file.
func TestLiveMoldSteerRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to drop the capabilities BPF needs")
	}
	r := liveMoldChannels(t, 3, "ebpf", func(ctx context.Context, f config.MoldFeed, syms *record.Symbols) (*MoldFeed, error) {
		var mf *MoldFeed
		err := withoutBPFCaps(func() error {
			var err error
			mf, err = StartMoldFeed(ctx, f, syms)
			return err
		})
		return mf, err
	})
	if r.counts["steer_unavailable"] != 1 || r.counts["mold_loops"] != 1 || !strings.Contains(r.steerErr.Error(), "operation not permitted") {
		t.Fatalf("refused steering: %v (%v)", r.counts, r.steerErr)
	}
	r.check(t)

	// Through RunLive: one warning naming the setting and the reason.
	prof, err := ReplayProfile()
	if err != nil {
		t.Fatal(err)
	}
	prof.Feed.Kind = "moldudp64"
	prof.Feed.MoldUDP64 = config.MoldFeed{Listen: "127.0.0.1:0", Date: "2019-12-30", Steering: "ebpf",
		Channels: []config.MoldChannel{{Session: "A"}, {Session: "B"}}}
	off := false
	prof.Journal.Enabled = &off
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the feed starts, the run ends at once
	var sum *Summary
	if err := withoutBPFCaps(func() error {
		sum, err = RunLive(ctx, RunOptions{Profile: prof, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if sum == nil {
		t.Fatal(err)
	}
	if strings.Count(logs.String(), "running without eBPF steering") != 1 || !strings.Contains(logs.String(), "feed.moldudp64.steering") ||
		sum.Records["steer_unavailable"] != 1 {
		t.Fatalf("log: %s; records %v", logs.String(), sum.Records)
	}
}

// withoutBPFCaps runs f on a thread of its own whose effective
// capabilities are empty (the permitted set is kept, so this is not the
// kernel's last word for the process): bpf() refuses there with EPERM as
// it would for an unprivileged user. The thread is thrown away after f
// (its goroutine ends locked to it); threads the runtime starts meanwhile
// come from its template thread, with the process's capabilities.
func withoutBPFCaps(f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- fmt.Errorf("capget: %w", err)
			return
		}
		data[0].Effective, data[1].Effective = 0, 0
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- fmt.Errorf("capset: %w", err)
			return
		}
		done <- f()
	}()
	return <-done
}

// channelRun is what liveMoldChannels saw.
type channelRun struct {
	n        int
	live     *Summary
	counts   map[string]uint64
	sim      feedsim.Stats
	got      map[string][]record.MarketTick // by symbol name: the live run's ticks
	want     map[string][]record.MarketTick // the same from the file
	replay   *Summary                       // replay --verify of the live journal
	steerErr error
	wire     map[string]float64 // /metrics: thunderline_feed_wire_total by name
}

// check asserts what every multi-channel run must give, steered or not.
func (r *channelRun) check(t *testing.T) {
	t.Helper()
	c := r.counts
	// Every message of every channel arrived once, and nothing was given up.
	if c["mold_channels"] != uint64(r.n) || c["mold_lost"] != 0 || c["mold_unrouted"] != 0 || c["mold_refused"] != 0 {
		t.Fatalf("counts %v", c)
	}
	for i := range r.n {
		ch := func(k string) uint64 { return c[fmt.Sprintf("mold_ch%d_%s", i, k)] }
		if ch("messages") != r.sim.Channels[i].Messages || ch("recovered") == 0 || r.sim.Channels[i].Dropped == 0 {
			t.Fatalf("channel %d: received %d of %d messages, recovered %d (feed-sim %+v)", i, ch("messages"),
				r.sim.Channels[i].Messages, ch("recovered"), r.sim.Channels[i])
		}
		// Each channel's gaps and re-requests are its own, in the journal.
		ev := r.live.FeedChannels[fmt.Sprint(i)]
		if ev["gap"] == 0 || ev["gap"] != ch("gaps") || ev["rerequest"] != ch("requested") || ev["lost"] != 0 {
			t.Fatalf("channel %d: journaled events %v, receiver gaps %d re-requests %d", i, ev, ch("gaps"), ch("requested"))
		}
		// /metrics has each channel's counts.
		for _, k := range []string{"messages", "gaps", "recovered"} {
			if name := fmt.Sprintf("mold_ch%d_%s", i, k); r.wire[name] != float64(c[name]) {
				t.Fatalf("/metrics feed_wire_total{name=%q} %v, records %d", name, r.wire[name], c[name])
			}
		}
		rev := r.replay.FeedChannels[fmt.Sprint(i)]
		if rev["gap"] != ev["gap"] || rev["rerequest"] != ev["rerequest"] || rev["lost"] != ev["lost"] {
			t.Fatalf("channel %d: replayed events %v, live %v", i, rev, ev)
		}
	}
	// Each symbol's ticks are the file's, in the file's order: the same
	// books. Across symbols the channels' arrival order is the live run's
	// own (kept by the journal, checked next).
	if len(r.got) != len(r.want) || len(r.want) < 100 {
		t.Fatalf("ticks of %d symbols live, %d in the file", len(r.got), len(r.want))
	}
	for sym, want := range r.want {
		got := r.got[sym]
		if len(got) != len(want) {
			t.Fatalf("%s: %d ticks live, %d in the file", sym, len(got), len(want))
		}
		for i := range want {
			if !sameTick(got[i], want[i]) {
				t.Fatalf("%s tick %d: live %+v, file %+v", sym, i, got[i], want[i])
			}
		}
	}
	if !r.replay.Verify.OK() || r.replay.WindowDigest != r.live.WindowDigest || r.replay.TraceDigest != r.live.TraceDigest ||
		r.replay.Traces != r.live.Traces || r.live.Traces == 0 {
		t.Fatalf("replay of the live journal: verify %+v, digests %s/%s (%d traces), live %s/%s (%d)", r.replay.Verify,
			r.replay.WindowDigest, r.replay.TraceDigest, r.replay.Traces, r.live.WindowDigest, r.live.TraceDigest, r.live.Traces)
	}
}

// sameTick compares what a tick says about its symbol's book and trades,
// not where it came from: the sequence number is the channel's (the
// file's position there), the receive time and ingest position the run's.
func sameTick(a, b record.MarketTick) bool {
	a.Seq, a.TsRecv, a.InSeq, a.Symbol = 0, 0, 0, 0
	b.Seq, b.TsRecv, b.InSeq, b.Symbol = 0, 0, 0, 0
	return a == b
}

// liveMoldChannels publishes Nasdaq's sample over n channels (sessions
// SNIP1…, sharded by stock locate, one packet in seven dropped, one in
// five late, from one socket) to a live feed started by start with
// steering, runs a journaled pipeline on it to the end of every session,
// and replays the journal with --verify.
func liveMoldChannels(t *testing.T, n int, steering string,
	start func(context.Context, config.MoldFeed, *record.Symbols) (*MoldFeed, error)) *channelRun {
	t.Helper()
	file := filepath.Join(itchData, "12302019_SNIPPET.NASDAQ_ITCH50")
	run := &channelRun{n: n, want: fileTicks(t, file)}

	names := make([]string, n)
	feed := config.MoldFeed{Listen: "127.0.0.1:0", Date: "2019-12-30", Steering: steering}
	for i := range n {
		names[i] = fmt.Sprintf("SNIP%d", i+1)
		feed.Channels = append(feed.Channels, config.MoldChannel{Session: names[i]})
	}
	stores := make([]*moldudp64.MemStore, n)
	for i := range stores {
		stores[i] = moldudp64.NewMemStore(1)
	}
	shared, err := moldudp64.ListenRetransmit("127.0.0.1:0", moldudp64.MakeSession(names[0]), stores[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n-1; i++ {
		shared.AddSession(moldudp64.MakeSession(names[i]), stores[i])
	}
	own, err := moldudp64.ListenRetransmit("127.0.0.1:0", moldudp64.MakeSession(names[n-1]), stores[n-1])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*moldudp64.RetransmitServer{shared, own} {
		go s.Serve()
		defer s.Close()
	}
	feed.Rerequest, feed.Channels[n-1].Rerequest = shared.Addr(), own.Addr()

	prof, err := ReplayProfile()
	if err != nil {
		t.Fatal(err)
	}
	prof.Window.Length = config.Duration(200 * time.Microsecond) // windows close on the feed's own ticks
	syms := record.NewSymbols()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	mf, err := start(ctx, feed, syms)
	if err != nil {
		t.Fatal(err)
	}
	run.steerErr = mf.SteerErr()
	p, err := New(Options{Profile: prof, Symbols: syms, JournalDir: filepath.Join(t.TempDir(), "live"), Wire: true})
	if err != nil {
		t.Fatal(err)
	}
	to, err := net.ResolveUDPAddr("udp", mf.Addr())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, to) // one source address for every channel
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pubs := make([]*moldudp64.Publisher, n)
	for i := range pubs {
		pubs[i] = moldudp64.NewPublisher(conn, moldudp64.MakeSession(names[i]))
		pubs[i].Store = stores[i]
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sim := make(chan feedsim.Stats, 1)
	go func() {
		st, err := feedsim.PublishMoldChannels(ctx, itch.NewFileReader(f), pubs, feedsim.Options{DropEvery: 7, ReorderEvery: 5})
		if err != nil {
			t.Error(err)
		}
		sim <- st
	}()
	rec := &tickRecorder{MoldFeed: mf, syms: syms, got: map[string][]record.MarketTick{}}
	if run.live, err = p.Run(ctx, rec); err != nil {
		t.Fatal(err)
	}
	run.counts, run.sim, run.got = mf.Counts(), <-sim, rec.got
	fams, err := p.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	run.wire = map[string]float64{}
	for _, f := range fams {
		if f.GetName() == "thunderline_feed_wire_total" {
			for _, m := range f.Metric {
				run.wire[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if run.replay, err = Replay(context.Background(), []string{run.live.Journal.Dir}, ReplayOptions{Verify: true, Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	return run
}

// tickRecorder is the live feed, keeping each symbol's ticks as the
// pipeline reads them.
type tickRecorder struct {
	*MoldFeed
	syms *record.Symbols
	got  map[string][]record.MarketTick
}

func (r *tickRecorder) Next(dst []record.MarketTick) (int, error) {
	n, err := r.MoldFeed.Next(dst)
	keep(r.got, r.syms, dst[:n])
	return n, err
}

func keep(m map[string][]record.MarketTick, syms *record.Symbols, ticks []record.MarketTick) {
	for _, t := range ticks {
		if t.Kind != record.KindControl {
			name := syms.Name(t.Symbol)
			m[name] = append(m[name], t)
		}
	}
}

// fileTicks reads an ITCH file's ticks by symbol, as replay reads them.
func fileTicks(t *testing.T, file string) map[string][]record.MarketTick {
	t.Helper()
	syms := record.NewSymbols()
	src, err := newITCHSource([]string{file}, syms)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]record.MarketTick{}
	buf := make([]record.MarketTick, 256)
	for {
		n, err := src.Next(buf)
		keep(m, syms, buf[:n])
		if err == io.EOF || (n == 0 && err == nil) {
			return m
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestMoldChannelsNoAllocs: a message's way from a channel's receiver to
// the engine — Deliver onto the channel's ring, the reader's merge of
// three rings by receive stamp, the ITCH parse — allocates nothing.
func TestMoldChannelsNoAllocs(t *testing.T) {
	rd, pushes, err := newMsgRings(3)
	if err != nil {
		t.Fatal(err)
	}
	var rx int64
	var delivers []func(uint64, []byte)
	for i, p := range pushes {
		delivers = append(delivers, msgDeliver(uint16(i), func() int64 { return rx }, p))
	}
	// An add order (A), 36 bytes.
	msg := make([]byte, 36)
	msg[0] = 'A'
	msg[19] = 'B'
	copy(msg[24:32], "ZVZZT   ")
	seq := uint64(0)
	if a := testing.AllocsPerRun(200, func() {
		seq++
		for ch := range 3 { // channel 0 delivers first but was stamped last
			rx = int64(seq*10) - int64(ch)
			delivers[ch](seq, msg)
		}
		for want := 2; want >= 0; want-- { // the reader takes the earliest stamp first
			m, meta, err := rd.Next()
			if err != nil || m.Type() != 'A' || meta.Seq != seq || meta.RecvNanos != int64(seq*10)-int64(want) {
				t.Fatalf("message %d: %v %+v, want channel %d's", seq, err, meta, want)
			}
		}
	}); a != 0 {
		t.Fatalf("%.1f allocations per message round", a)
	}
}
