// Package vethns builds a little network for tests: a network namespace
// and a veth pair between it and the test's own namespace, with IPv4
// addresses on both ends, removed when the test ends. Packets a test sends
// from inside the namespace cross the veth and arrive on the host end as
// from a wire — where an XDP program sees them. It needs root (CI runs as
// root); elsewhere the tests that use it are skipped with the reason.
// Tests only: the layout test forbids importing it from non-test code.
package vethns

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Net is a namespace joined to the test's by a veth pair.
type Net struct {
	NS       string // namespace name
	Host     string // veth end in the test's namespace
	Peer     string // veth end inside NS
	HostAddr string // IPv4 address of Host
	PeerAddr string // IPv4 address of Peer
}

var seq atomic.Uint32

// New creates the namespace and the pair, both ends up, and removes them
// when t ends.
func New(t testing.TB) *Net {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a network namespace and a veth pair need root")
	}
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, seq.Add(1))
	sub := (os.Getpid()+int(seq.Load())*7)%200 + 20
	n := &Net{NS: "tl" + id, Host: "tlh" + id, Peer: "tlp" + id,
		HostAddr: fmt.Sprintf("10.231.%d.1", sub), PeerAddr: fmt.Sprintf("10.231.%d.2", sub)}
	steps := [][]string{
		{"netns", "add", n.NS},
		{"link", "add", n.Host, "type", "veth", "peer", "name", n.Peer},
		{"link", "set", n.Peer, "netns", n.NS},
		{"addr", "add", n.HostAddr + "/24", "dev", n.Host},
		{"link", "set", n.Host, "up"},
		{"-n", n.NS, "addr", "add", n.PeerAddr + "/24", "dev", n.Peer},
		{"-n", n.NS, "link", "set", n.Peer, "up"},
		{"-n", n.NS, "link", "set", "lo", "up"},
	}
	t.Cleanup(func() {
		ip("link", "del", n.Host)
		ip("netns", "del", n.NS)
	})
	for _, s := range steps {
		if err := ip(s...); err != nil {
			t.Fatalf("vethns: %v", err)
		}
	}
	return n
}

// DialUDP opens a UDP socket inside the namespace connected to addr (the
// socket stays in the namespace; the calling goroutine does not).
func (n *Net) DialUDP(t testing.TB, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	n.in(t, func() error {
		a, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return err
		}
		c, err = net.DialUDP("udp", nil, a)
		return err
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// in runs f on a thread moved into the namespace, then moves it back.
func (n *Net) in(t testing.TB, f func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // the thread is dropped, not reused, if moving back fails
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer self.Close()
		ns, err := os.Open("/run/netns/" + n.NS)
		if err != nil {
			errc <- err
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", n.NS, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	if err := <-errc; err != nil {
		t.Fatalf("vethns: in %s: %v", n.NS, err)
	}
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
