package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"thunderline/adapters/moldudp64"
)

// `feed-sim --file F --mold ADDR` sends the sample's messages as MoldUDP64
// datagrams to a real socket, drops what it is told to, and ends the
// session.
func TestFeedSimMold(t *testing.T) {
	conn := listenMold(t)
	code, out, errOut := cli(t, "feed-sim", "--file", "../../../shared/data/itch/12302019_SNIPPET.NASDAQ_ITCH50",
		"--mold", conn.LocalAddr().String(), "--drop-every", "10")
	if code != 0 || !strings.Contains(out, "1000 messages in 125 packets (12 dropped") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	got := receiveMold(t, conn)
	if got != 1000-12*8 {
		t.Fatalf("received %d messages", got)
	}
	if code, _, _ := cli(t, "feed-sim", "--file", "x"); code != 2 {
		t.Fatalf("feed-sim without a destination: exit %d", code)
	}
}

// `feed-sim --synthetic N --mold ADDR` sends a synthetic session: the
// directory, then N order messages, paced at --rate.
func TestFeedSimSynthetic(t *testing.T) {
	conn := listenMold(t)
	code, out, errOut := cli(t, "feed-sim", "--synthetic", "4000", "--symbols", "3", "--rate", "1000000",
		"--mold", conn.LocalAddr().String())
	if code != 0 || !strings.Contains(out, "4004 messages in") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	got := receiveMold(t, conn)
	if got != 4004 {
		t.Fatalf("received %d messages, want 4,004 (system event, 3 directory, 4,000 orders)", got)
	}
	if code, _, _ := cli(t, "feed-sim", "--synthetic", "5", "--file", "x", "--mold", "127.0.0.1:1"); code != 2 {
		t.Fatalf("--synthetic with --file: exit %d", code)
	}
}

// `feed-sim --synthetic N --channels 3` shards the session over three
// MoldUDP64 sessions named SIM1, SIM2, SIM3 from one socket: the system
// event goes to each, every other message to one; each session ends.
func TestFeedSimChannels(t *testing.T) {
	conn := listenMold(t)
	code, out, errOut := cli(t, "feed-sim", "--synthetic", "3000", "--symbols", "6", "--rate", "1000000", "--channels", "3",
		"--mold", conn.LocalAddr().String())
	// 3 system events (one a channel), 6 directory messages, 3,000 orders.
	if code != 0 || !strings.Contains(out, "3009 messages in") || !strings.Contains(out, "channel SIM3: ") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	got := map[string]int{}
	ended := 0
	buf := make([]byte, moldudp64.MaxDatagram)
	for ended < 3 {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		h, err := moldudp64.Messages(buf[:n], func(uint64, []byte) {})
		if err != nil {
			t.Fatal(err)
		}
		if h.End() {
			ended++
			continue
		}
		got[h.SessionName()] += int(h.Count)
	}
	if len(got) != 3 || got["SIM1"]+got["SIM2"]+got["SIM3"] != 3009 || got["SIM1"] < 500 {
		t.Fatalf("messages by session: %v", got)
	}
	if code, _, _ := cli(t, "feed-sim", "--synthetic", "5", "--channels", "0", "--mold", "127.0.0.1:1"); code != 2 {
		t.Fatalf("--channels 0: exit %d", code)
	}
}

// listenMold opens a UDP socket on loopback for feed-sim to send to.
func listenMold(t *testing.T) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetReadBuffer(8 << 20)
	return conn
}

// receiveMold counts the messages of the MoldUDP64 packets conn receives
// until the end of the session.
func receiveMold(t *testing.T, conn *net.UDPConn) int {
	t.Helper()
	got := 0
	buf := make([]byte, moldudp64.MaxDatagram)
	for {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Read(buf); err != nil {
			t.Fatalf("after %d messages: %v", got, err)
		}
		count := binary.BigEndian.Uint16(buf[18:20])
		if count == moldudp64.EndOfSession {
			return got
		}
		got += int(count)
	}
}

// `feed-sim --dbn-gateway` serves the MBP-1 capture as Databento's live
// gateway, and `run --profile profiles/live-dbn.yaml` (its addr pointed at
// it) reads it to the capture's end: the ticks, windows and traces of
// `replay` of the file.
func TestFeedSimDBNGateway(t *testing.T) {
	const file = "../../../shared/data/dbn/futures_mbp-1_2024-07-01T23-58_2024-07-02T00-02.dbn.zst"
	t.Setenv("TL_TEST_DATABENTO_KEY", "db-feedsim000000000000FEED1")
	ctx, cancel := context.WithCancel(context.Background())
	addr, served := make(chan string, 1), make(chan error, 1)
	var gwErr bytes.Buffer
	go func() {
		served <- serveDBNGateway(ctx, "127.0.0.1:0", file, "GLBX.MDP3", "TL_TEST_DATABENTO_KEY", &gwErr, func(a string) { addr <- a })
	}()
	var gw string
	select {
	case gw = <-addr:
	case err := <-served:
		t.Fatalf("feed-sim --dbn-gateway: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway did not start")
	}
	prof, err := os.ReadFile("../../profiles/live-dbn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "live-dbn.yaml")
	os.WriteFile(p, bytes.Replace(bytes.Replace(prof, []byte("127.0.0.1:13000"), []byte(gw), -1),
		[]byte("DATABENTO_API_KEY"), []byte("TL_TEST_DATABENTO_KEY"), -1), 0o644)
	code, out, errOut := cli(t, "run", "--profile", p, "--no-admin", "--json", "--for", "2m")
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("run exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut+out+gwErr.String(), "db-feedsim") {
		t.Fatal("the API key in the output")
	}
	code, rout, rerr := cli(t, "replay", "--json", file)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, rerr)
	}
	type summary struct {
		Ticks        uint64            `json:"ticks"`
		Windows      uint64            `json:"windows"`
		WindowDigest string            `json:"window_digest"`
		TraceDigest  string            `json:"trace_digest"`
		Records      map[string]uint64 `json:"records"`
	}
	var live, want summary
	if err := json.Unmarshal([]byte(out), &live); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := json.Unmarshal([]byte(rout), &want); err != nil {
		t.Fatalf("%v: %s", err, rout)
	}
	if live.Ticks != want.Ticks || live.Windows != want.Windows || live.WindowDigest != want.WindowDigest || live.TraceDigest != want.TraceDigest ||
		live.Ticks == 0 || live.Records["dbn_live_sessions"] != 2 || live.Records["mbp-1"] < want.Records["mbp-1"] {
		t.Fatalf("live %+v\nreplay %+v", live, want)
	}
	if !strings.Contains(gwErr.String(), "2 sessions served, 0 refused") {
		t.Fatalf("gateway: %s", gwErr.String())
	}
}

// The README's multi-channel demo: `run --profile
// profiles/live-mold-channels.yaml` (its ports moved to free ones) and
// `feed-sim --synthetic N --channels 4` beside it: the run follows the four
// sessions to their ends, with eBPF steering when root (one loop per
// channel) and without otherwise, every message received once;
// `replay --verify` of its journal passes.
func TestFeedSimChannelsDemo(t *testing.T) {
	prof, err := os.ReadFile("../../profiles/live-mold-channels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	feedPort, reqPort := freePort(t), freePort(t)
	dir := t.TempDir()
	prof = bytes.Replace(prof, []byte("127.0.0.1:26400"), []byte(feedPort), -1)
	prof = bytes.Replace(prof, []byte("127.0.0.1:26401"), []byte(reqPort), -1)
	prof = bytes.Replace(prof, []byte("journal: {compression: s2}"), []byte("journal: {compression: s2, dir: "+filepath.Join(dir, "j")+"}"), 1)
	p := filepath.Join(dir, "live.yaml")
	if err := os.WriteFile(p, prof, 0o644); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code     int
		out, err string
	}
	ran := make(chan result, 1)
	go func() {
		code, out, errOut := cli(t, "run", "--profile", p, "--no-admin", "--json", "--for", "2m")
		ran <- result{code, out, errOut}
	}()
	// The run listens before it opens its journal: wait for that, then
	// send the session once.
	deadline := time.Now().Add(time.Minute)
	for {
		if runs, _ := filepath.Glob(filepath.Join(dir, "j", "run-*")); len(runs) > 0 {
			break
		}
		select {
		case r := <-ran:
			t.Fatalf("run ended before it listened: exit %d: %s", r.code, r.err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not open its journal")
		}
	}
	code, simOut, simErr := cli(t, "feed-sim", "--synthetic", "20000", "--symbols", "8", "--rate", "200000", "--channels", "4",
		"--mold", feedPort, "--retransmit", reqPort)
	if code != 0 || !strings.Contains(simOut, "20012 messages in") {
		t.Fatalf("feed-sim exit %d: %s %s", code, simOut, simErr)
	}
	r := <-ran
	if r.code != 0 {
		t.Fatalf("run exit %d: %s\nfeed-sim: %s %s", r.code, r.err, simOut, simErr)
	}
	var sum struct {
		Records map[string]uint64 `json:"records"`
		Journal struct{ Dir string }
	}
	if err := json.Unmarshal([]byte(r.out), &sum); err != nil {
		t.Fatalf("%v: %s", err, r.out)
	}
	c := sum.Records
	loops := uint64(1)
	if os.Geteuid() == 0 {
		loops = 4
	}
	// 4 system events (one a channel), 8 directory messages, 20,000 orders.
	if c["mold_channels"] != 4 || c["mold_loops"] != loops || c["mold_messages"] != 20012 || c["mold_lost"] != 0 || c["mold_unrouted"] != 0 {
		t.Fatalf("records %v", c)
	}
	if code, out, errOut := cli(t, "replay", "--verify", sum.Journal.Dir); code != 0 {
		t.Fatalf("replay --verify exit %d: %s %s", code, out, errOut)
	}
}

// freePort returns a loopback UDP address nobody listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}
