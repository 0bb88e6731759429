package moldbpf

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"thunderline/adapters/moldbpf/vethns"
	"thunderline/adapters/moldudp64"
)

// TestXDPCountsWireGaps: in a namespace the test builds, MoldUDP64 packets
// sent across a veth pair — with a jump, a late packet and heartbeats —
// are counted by the XDP program on the receiving end exactly as the
// sequence numbers on the wire say, and every packet still reaches the
// socket (the program only counts).
func TestXDPCountsWireGaps(t *testing.T) {
	for _, mode := range []Mode{ModeNative, ModeGeneric} {
		t.Run(string(mode), func(t *testing.T) { xdpCounts(t, mode) })
	}
}

func xdpCounts(t *testing.T, mode Mode) {
	n := vethns.New(t)
	const port = 26477
	c, err := Attach(n.Host, mode, port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Mode != mode {
		t.Fatalf("attached in %s mode, asked for %s", c.Mode, mode)
	}
	rx, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(n.HostAddr), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx := n.DialUDP(t, fmt.Sprintf("%s:%d", n.HostAddr, port))
	other := n.DialUDP(t, fmt.Sprintf("%s:%d", n.HostAddr, port+1)) // not a feed port: not counted
	sess := moldudp64.MakeSession("XDPTEST001")
	data := func(seq uint64, k int) []byte {
		b := moldudp64.AppendHeader(nil, sess, seq, uint16(k))
		for range k {
			b = moldudp64.AppendMessage(b, []byte("msg"))
		}
		return b
	}
	packets := [][]byte{
		data(1, 3),                               // 1..3
		data(4, 2),                               // 4..5
		data(9, 1),                               // 6..8 never sent: a gap of 3 on the wire
		data(6, 3),                               // late
		moldudp64.AppendHeader(nil, sess, 10, 0), // heartbeat: nothing missing
		moldudp64.AppendHeader(nil, sess, 12, 0), // heartbeat: 10, 11 missing
	}
	for _, p := range packets {
		if _, err := tx.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := other.Write(data(100, 1)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	rx.SetReadDeadline(time.Now().Add(30 * time.Second))
	for i := range packets {
		if _, err := rx.Read(buf); err != nil {
			t.Fatalf("packet %d did not reach the socket: %v", i, err)
		}
	}
	got, err := c.Counts(port)
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Packets: 6, Gaps: 2, Missed: 5, Next: 12, Reorders: 1, Messages: 9}
	if got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	if _, err := c.Counts(port + 1); err == nil {
		t.Fatal("a port not asked for has counts")
	}
}

// TestAttachRefusals: where XDP cannot go, Attach says why and leaves
// nothing behind: an interface that does not exist, and native mode on
// loopback (no driver XDP there).
func TestAttachRefusals(t *testing.T) {
	if _, err := Attach("tl-no-such-if", ModeAuto, 1); err == nil || !strings.Contains(err.Error(), "tl-no-such-if") {
		t.Fatalf("missing interface: %v", err)
	}
	if _, err := Attach("lo", ModeAuto); err == nil || !strings.Contains(err.Error(), "no feed port") {
		t.Fatalf("no port: %v", err)
	}
	if _, err := Attach("lo", "fast", 1); err == nil || !strings.Contains(err.Error(), `mode "fast"`) {
		t.Fatalf("bad mode: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("loading BPF needs root")
	}
	_, err := Attach("lo", ModeNative, 1)
	if err == nil || !strings.Contains(err.Error(), "attach XDP to lo (native)") || errors.Unwrap(err) == nil {
		t.Fatalf("native XDP on lo: %v", err)
	}
}
