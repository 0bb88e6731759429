package moldbpf

import (
	"net"
	"os"
	"testing"
	"time"

	"thunderline/adapters/moldudp64"

	"golang.org/x/sys/unix"
)

// TestSteerBySession: three MoldUDP64 channels from one source address to
// one port, a SO_REUSEPORT group of three sockets with the steering
// program: each socket gets exactly its channel's datagrams. Without the
// program the kernel's 4-tuple hash sends all three channels to one socket
// (checked too: the reason steering earns its place).
func TestSteerBySession(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loading BPF needs root")
	}
	sessions := []string{"CHANA", "CHANB", "CHANC"}
	g, err := ListenGroup("127.0.0.1:0", 3, map[string]int{"CHANA": 0, "CHANB": 1, "CHANC": 2})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got := send(t, g.Conns, sessions, 30)
	for i, c := range got {
		if len(c) != 10 {
			t.Fatalf("socket %d got %v: want 10 datagrams of %s", i, c, sessions[i])
		}
		for _, s := range c {
			if s != sessions[i] {
				t.Fatalf("socket %d got %s's datagram: %v", i, s, c)
			}
		}
	}

	// The same group with no program: one source, one socket.
	plain, err := listenPlain(3)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range plain {
			c.Close()
		}
	}()
	got = send(t, plain, sessions, 30)
	busy := 0
	for _, c := range got {
		if len(c) > 0 {
			busy++
		}
	}
	if busy != 1 {
		t.Fatalf("without steering %d sockets got datagrams, want 1 (the kernel's 4-tuple hash)", busy)
	}
}

// send sends n datagrams cycling through sessions from one socket to the
// group's port and returns the sessions each socket received.
func send(t *testing.T, conns []*net.UDPConn, sessions []string, n int) [][]string {
	t.Helper()
	to := conns[0].LocalAddr().(*net.UDPAddr)
	tx, err := net.DialUDP("udp4", nil, to)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for i := 0; i < n; i++ {
		name := sessions[i%len(sessions)]
		if _, err := tx.Write(moldudp64.AppendHeader(nil, moldudp64.MakeSession(name), uint64(i+1), 0)); err != nil {
			t.Fatal(err)
		}
	}
	got := make([][]string, len(conns))
	buf := make([]byte, 2048)
	total := 0
	deadline := time.Now().Add(10 * time.Second)
	for total < n && time.Now().Before(deadline) {
		for i, c := range conns {
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			k, err := c.Read(buf)
			if err != nil {
				continue
			}
			h, err := moldudp64.ParseHeader(buf[:k])
			if err != nil {
				t.Fatal(err)
			}
			got[i] = append(got[i], h.SessionName())
			total++
		}
	}
	if total != n {
		t.Fatalf("received %d of %d datagrams", total, n)
	}
	return got
}

func listenPlain(n int) ([]*net.UDPConn, error) {
	g, err := ListenGroup("127.0.0.1:0", n, nil)
	if err != nil {
		return nil, err
	}
	// Detach by closing the program's references: a fresh group without
	// the program is simpler — reuse the sockets' options only.
	conns := g.Conns
	g.Conns = nil
	if err := withFD(conns[0], func(fd int) error { return detachReuseport(fd) }); err != nil {
		return nil, err
	}
	g.Close()
	return conns, nil
}

// detachReuseport removes the group's steering program (tests: the
// kernel's own choice again).
func detachReuseport(fd int) error {
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_REUSEPORT_BPF, 0)
}
