package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"thunderline/hotpath/window"
	"thunderline/profiles"
)

func TestEmbeddedProfilesParse(t *testing.T) {
	for _, name := range []string{"minimal.yaml", "replay.yaml", "colocated.yaml", "scaled.yaml", "postgres.yaml", "filings.yaml", "live-dbn.yaml"} {
		b, err := profiles.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Parse(b, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wc, _ := p.WindowConfig()
		if wc.Length != 250*time.Millisecond || wc.Overlap != 0.5 || wc.Recipe != window.RecipeFull {
			t.Fatalf("%s: window %+v", name, wc)
		}
	}
}

// TestMinimalIsDefaults: the minimal profile documents the defaults, so
// parsing it must give what an empty profile gives (except where it says
// otherwise: the sequence mode).
func TestMinimalIsDefaults(t *testing.T) {
	min, err := Parse(profiles.Minimal(), "minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The two values minimal.yaml sets on purpose, away from the defaults.
	empty, err := Parse([]byte("normalize: {seq: contiguous}\nfeed: {synthetic: {bad_ratio: 0.0001}}\n"), "empty.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := min.WindowConfig()
	b, _ := empty.WindowConfig()
	if a != b {
		t.Errorf("window: minimal %+v, defaults %+v", a, b)
	}
	if min.SyntheticConfig() != empty.SyntheticConfig() {
		t.Errorf("synthetic: minimal %+v, defaults %+v", min.SyntheticConfig(), empty.SyntheticConfig())
	}
	na, _ := min.NormalizeConfig()
	nb, _ := empty.NormalizeConfig()
	if na != nb || min.BookConfig().WithDefaults() != empty.BookConfig().WithDefaults() {
		t.Errorf("normalize/book differ: %+v %+v", na, nb)
	}
	ja0, jb0 := min.JournalOptions("d").WithDefaults(), empty.JournalOptions("d").WithDefaults()
	ja0.Logger, jb0.Logger = nil, nil
	if ja0 != jb0 {
		t.Errorf("journal: %+v vs %+v", ja0, jb0)
	}
	pa, ja, oa := min.RingSizes()
	pb, jb, ob := empty.RingSizes()
	if pa != pb || ja != jb || oa != ob || min.NumPartitions() != empty.NumPartitions() || min.ProgressInterval() != empty.ProgressInterval() {
		t.Error("rings, partitions or progress differ from the defaults")
	}
}

// TestStrictErrors: every bad profile is a *FieldError naming the file
// and the field by its full path.
func TestStrictErrors(t *testing.T) {
	f := func(yamlText, wantPath, wantInErr string) {
		t.Helper()
		_, err := Parse([]byte(yamlText), "bad.yaml")
		if err == nil {
			t.Fatalf("%q: want an error", yamlText)
		}
		if !strings.HasPrefix(err.Error(), "profile bad.yaml: ") || !strings.Contains(err.Error(), wantInErr) {
			t.Errorf("%q: error %q should name the file and %q", yamlText, err, wantInErr)
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != wantPath || fe.File != "bad.yaml" || fe.Doc != "profile" {
			t.Errorf("%q: error %#v, want a *FieldError with path %q", yamlText, err, wantPath)
		}
	}
	f("windw: {length: 1s}\n", "windw", "line 1: windw: unknown key")
	f("stage: {inline: true}\npartitions: 2\n", "stage.inline", "needs partitions: 1")
	f("stage: {warm: 50us}\npartitions: 1\n", "stage.warm", "needs stage.inline")
	f("stage: {inline: true, warm: -1us}\npartitions: 1\n", "stage.warm", "positive interval")
	f("stage: {inline: true}\npartitions: 1\nrouter: {enabled: false}\n", "stage.inline", "router is disabled")
	f("feed: {kind: moldudp64, moldudp64: {listen: \"127.0.0.1:1\", xdp: {interface: eth0, mode: fast}}}\n", "feed.moldudp64.xdp.mode", "want auto, native or generic")
	f("feed: {kind: moldudp64, moldudp64: {listen: \"127.0.0.1:1\", xdp: {mode: native}}}\n", "feed.moldudp64.xdp.mode", "nothing to attach to")
	mc := func(extra string) string {
		return "feed: {kind: moldudp64, moldudp64: {listen: \"127.0.0.1:1\"" + extra + "}}\n"
	}
	f(mc(", steering: bpf"), "feed.moldudp64.steering", `"bpf": want ebpf or off`)
	f(mc(", steering: ebpf"), "feed.moldudp64.steering", "ebpf with 0 channels")
	f(mc(", steering: ebpf, channels: [{session: A}]"), "feed.moldudp64.steering", "ebpf with 1 channels")
	f(mc(", multicast: true, steering: ebpf, channels: [{session: A}, {session: B}]"), "feed.moldudp64.steering", "ebpf with multicast")
	f(mc(", channels: [{session: A}, {rerequest: \"127.0.0.1:2\"}]"), "feed.moldudp64.channels[1].session", `"": want 1 to 10 characters`)
	f(mc(", channels: [{session: ELEVENCHARS}]"), "feed.moldudp64.channels[0].session", "want 1 to 10 characters")
	f(mc(", channels: [{session: \" A\"}]"), "feed.moldudp64.channels[0].session", "starts with a space")
	f(mc(", channels: [{session: A}, {session: B}, {session: A}]"), "feed.moldudp64.channels[2].session", `"A" is channel 0's session too`)
	f(mc(", channels: [{session: A, rerequest: nowhere}]"), "feed.moldudp64.channels[0].rerequest", `"nowhere": want host:port`)
	f(mc(", channels: [{session: A, port: 1}]"), "feed.moldudp64.channels[0].port", "unknown key")
	dl := func(extra string) string {
		if !strings.Contains(extra, "schema:") {
			extra += ", schema: mbo"
		}
		if !strings.Contains(extra, "symbols:") {
			extra += ", symbols: [ESH4]"
		}
		return "feed: {kind: dbn-live, dbn_live: {addr: \"127.0.0.1:1\", dataset: GLBX.MDP3, key_env: K" + extra + "}}\n"
	}
	f("feed: {kind: dbn-live}\n", "feed.dbn_live.addr", "required")
	f("feed: {kind: dbn-live, dbn_live: {addr: \"127.0.0.1:1\", dataset: GLBX.MDP3, schema: mbo, symbols: [ESH4]}}\n", "feed.dbn_live.key_env", "required")
	f(dl(", key: abc"), "feed.dbn_live.key", "unknown key")
	f(dl(", start: yesterday"), "feed.dbn_live.start", "want an RFC 3339 time")
	f(dl(", start: -5"), "feed.dbn_live.start", "want 0 or a time after the epoch")
	f(dl(", heartbeat: 2s"), "feed.dbn_live.heartbeat", "whole seconds from 5s to 30m")
	f(dl(", overlap: -1ms"), "feed.dbn_live.overlap", "negative")
	f(dl(", symbols: [\"ES|H4\"]"), "feed.dbn_live.symbols[0]", "holds no '|'")
	f(dl(", schema: \"mbo|start=0\""), "feed.dbn_live.schema", "holds '|'")
	// Found by a hostile audit: every number bounded and finite, one
	// document, a file of reasonable size, each error at its own field.
	f("window: {overlap: .nan}\n", "window.overlap", "want a finite number")
	f("risk: {max_loss: .inf}\n", "risk.max_loss", "finite")
	f("feed: {synthetic: {rate: 1e300}}\n", "feed.synthetic", "rate")
	f("feed: {synthetic: {trade_ratio: .nan}}\n", "feed.synthetic.trade_ratio", "finite")
	f("rings: {partition: 1099511627776}\n", "rings.partition", "power of two from 2 to 16777216")
	f("rings: {output: 1}\n", "rings.output", "power of two")
	f("partitions: 2.5\n", "partitions", "want an integer")
	f("partitions: 300\n", "partitions", "1 to 256")
	f("tenant: a\n---\ntenant: b\n", "", "a second YAML document")
	f("", "", "empty")
	f("# only a comment\n", "", "empty")
	f("tenant: "+strings.Repeat("x", MaxProfileBytes)+"\n", "", "a profile is at most")
	f("window: {lenght: 1s}\n", "window.lenght", "lenght")
	f("window: {length: soon}\n", "window.length", "soon")
	f("window: {overlap: 1.5}\n", "window", "window")
	f("window: {recipe: fancy}\n", "window", "fancy")
	f("window: {label: {type: maybe}}\n", "window", "maybe")
	f("window: {allowed_lateness: 1s}\n", "window.label.horizon", "window.label.horizon")
	f("feed: {kind: kafka}\n", "feed.kind", "feed.kind")
	f("feed: {kind: dbn}\n", "feed.dbn.files", "feed.dbn.files")
	f("feed: {synthetic: {symbols: -2}}\n", "feed.synthetic", "feed.synthetic")
	f("partitions: 1000\n", "partitions", "partitions")
	f("partitions: 2\npartitions: 3\n", "partitions", "line 2: partitions: given twice (first at line 1)")
	f("rings: {partition: 1000}\n", "rings.partition", "rings.partition")
	f("normalize: {seq: sometimes}\n", "normalize", "sometimes")
	f("normalize: {min_price: \"abc\"}\n", "normalize.min_price", "abc")
	f("normalize: {min_price: \"5\", max_price: \"1\"}\n", "normalize", "min_price")
	f("book: {depth: 99}\n", "book", "book")
	f("journal: {fsync: sometimes}\n", "journal", "journal")
	f("tenant: [1, 2]\n", "tenant", "line 1: tenant: a list: want a string")
	f("progress: {interval: -1s}\n", "progress.interval", "-1s: must not be negative")
	f("router: {layers: [{experts: 4, capacity_factor: 2, p: 1.5}]}\n", "router.layers[0].p", "1.5: want a number in (0, 1]")
	f("router:\n  layers:\n    - {experts: 4, capacity_factor: 2, p: 0.5, bogus: 1}\n", "router.layers[0].bogus", "line 3: router.layers[0].bogus: unknown key")
	f("router: {shadow: [{name: s, kind: remote}]}\n", "router.shadow[0].kind", "action head")
	f("admin: {tokens: [{role: root, value: 0123456789abcdef}]}\n", "admin.tokens[0].role", "root")
	f("postgres: {batch_delay: -1s}\n", "postgres.batch_delay", "must not be negative")
	f("postgres: {drain: 2h}\n", "postgres.drain", "2h0m0s: want at most 1h")
	f("postgres: {drian: 10s}\n", "postgres.drian", "unknown key")
	f("postgres: {batch_rows: 2000000}\n", "postgres.batch_rows", "want at most 1048576")
	f("ladder: {min_p: 1}\n", "ladder.min_p", "want a number in [0, 1)")
	f("risk: {high_latency: -5us}\n", "risk.high_latency", "-5µs: must not be negative")
	f("risk: {deny: [{tenant: a}]}\n", "risk.deny[0]", "needs a tenant and a symbol")
	f("edgar: {dir: d, forms: [10-K]}\n", "edgar.forms", "url is not set")
	f("[1, 2]\n", "", "a list: want a mapping")
	f("window: {length: [1\n", "", "yaml:")
}

func TestPrice(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"1", 1e9}, {"0.000000001", 1}, {"-2.5", -2_500_000_000}, {"4500.25", 4_500_250_000_000}} {
		got, err := ParsePrice(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePrice(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if back, _ := ParsePrice(FormatPrice(got)); back != got {
			t.Errorf("FormatPrice(%d) = %q does not parse back", got, FormatPrice(got))
		}
	}
	for _, bad := range []string{"", "1.0000000001", "1e5", "x", "--1", "99999999999999"} {
		if _, err := ParsePrice(bad); err == nil {
			t.Errorf("ParsePrice(%q): want error", bad)
		}
	}
}

// TestMarshalRoundTrip: the journal stores a run's profile as YAML; parsing
// it back must give the same configuration.
func TestMarshalRoundTrip(t *testing.T) {
	p, err := Parse([]byte(`
tenant: acme
window: {length: 100ms, overlap: 0, allowed_lateness: 5ms, recipe: coarse, label: {horizon: 1s, type: class, threshold_bps: 2}}
normalize: {min_price: "-5", max_price: "100", seq: off}
journal: {enabled: false}
`), "a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(y, "b.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	a, _ := p.WindowConfig()
	b, _ := q.WindowConfig()
	na, _ := p.NormalizeConfig()
	nb, _ := q.NormalizeConfig()
	if a != b || na != nb || q.TenantName() != "acme" || q.JournalEnabled() {
		t.Fatalf("round trip changed the profile:\n%+v\n%+v\n%+v\n%+v", a, b, na, nb)
	}
	if a.Overlap != 0 || !a.NoOverlap {
		t.Fatalf("overlap 0 lost: %+v", a)
	}
}

// FuzzParse: a profile is outside bytes; any input gives a profile or an
// error, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(profiles.Minimal())
	f.Add([]byte("window: {length: 1s, overlap: 0.2}\n"))
	f.Add([]byte("normalize: {min_price: \"-1.5\"}\n"))
	f.Add([]byte("feed: {kind: dbn, dbn: {files: [a.dbn]}}\n"))
	f.Add([]byte("router: {layers: [{experts: 4, capacity_factor: 2, p: 0.5, list: [{name: a, kind: momentum, params: {vol_floor: 1}}]}]}\n"))
	f.Add([]byte("base: &b {length: 1s}\nwindow: {<<: *b, overlap: 0}\n"))
	f.Add([]byte("window: &w {length: 1s}\nbook: *w\nrisk: {deny: [{tenant: a, symbol: b}, {tenant: a, symbol: b}]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b, "fuzz.yaml")
		if err == nil {
			if _, err := p.WindowConfig(); err != nil {
				t.Fatalf("valid profile with invalid window config: %v", err)
			}
		}
	})
}

// TestBusyPolled: feed.moldudp64.busy_poll follows rings.wait unless set.
func TestBusyPolled(t *testing.T) {
	f := func(yml string, want bool) {
		t.Helper()
		p, err := Parse([]byte(yml), "t.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if p.BusyPolled() != want {
			t.Errorf("%q: busy polled %v, want %v", yml, p.BusyPolled(), want)
		}
	}
	f("feed: {kind: moldudp64, moldudp64: {listen: \"127.0.0.1:1\"}}\n", false)
	f("feed: {kind: moldudp64, moldudp64: {listen: \"127.0.0.1:1\"}}\nrings: {wait: yield}\n", true)
	f("feed: {kind: moldudp64, moldudp64: {listen: \"127.0.0.1:1\", busy_poll: false}}\nrings: {wait: yield}\n", false)
	f("feed: {kind: moldudp64, moldudp64: {listen: \"127.0.0.1:1\", busy_poll: true}}\n", true)
}

// TestDBNLiveStart: feed.dbn_live.start as RFC 3339, nanoseconds or 0
// (all the gateway has); unset is live only.
func TestDBNLiveStart(t *testing.T) {
	f := func(start string, want int64, wantReplay bool) {
		t.Helper()
		p, err := Parse([]byte("feed: {kind: dbn-live, dbn_live: {addr: \"127.0.0.1:1\", dataset: GLBX.MDP3, schema: mbo, symbols: [ALL_SYMBOLS], key_env: K"+
			start+", heartbeat: 10s, overlap: 1ms}}\n"), "ok.yaml")
		if err != nil {
			t.Fatal(err)
		}
		ns, replay, err := p.Feed.DBNLive.Replay()
		if err != nil || ns != want || replay != wantReplay || time.Duration(p.Feed.DBNLive.Heartbeat) != 10*time.Second {
			t.Fatalf("start%q: %d %v %v", start, ns, replay, err)
		}
	}
	f("", 0, false)
	f(", start: 0", 0, true)
	f(", start: 1704103200000000000", 1704103200000000000, true)
	f(", start: \"2024-01-01T10:00:00Z\"", 1704103200000000000, true)
}

// TestMoldChannels: a multi-channel MoldUDP64 feed with eBPF steering
// parses into its channels, in order, each with its re-request server.
func TestMoldChannels(t *testing.T) {
	p, err := Parse([]byte(`feed:
  kind: moldudp64
  moldudp64:
    listen: 127.0.0.1:26400
    rerequest: 127.0.0.1:26401
    steering: ebpf
    channels:
      - {session: SIM1}
      - {session: SIM2, rerequest: "127.0.0.1:26402"}
`), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := p.Feed.MoldUDP64
	if !f.SteerEBPF() || len(f.Channels) != 2 || f.Channels[0] != (MoldChannel{Session: "SIM1"}) ||
		f.Channels[1] != (MoldChannel{Session: "SIM2", Rerequest: "127.0.0.1:26402"}) {
		t.Fatalf("%+v", f)
	}
}
