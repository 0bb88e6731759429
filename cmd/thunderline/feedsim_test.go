package main

import (
	"encoding/binary"
	"net"
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
