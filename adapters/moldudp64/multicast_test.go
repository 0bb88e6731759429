package moldudp64

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inNetns runs f on a thread inside a network namespace the test makes (with
// lo up and multicast routed on it) and removes the namespace at the end.
// Sockets f opens stay in the namespace.
func inNetns(t *testing.T, f func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	name := fmt.Sprintf("tl-mold-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	run("netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	run("-n", name, "link", "set", "lo", "up", "multicast", "on")
	run("-n", name, "route", "add", "224.0.0.0/4", "dev", "lo")
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The thread stays in the namespace: it is never unlocked, so Go
		// ends it with this goroutine.
		runtime.LockOSThread()
		fd, err := unix.Open("/var/run/netns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Errorf("open netns: %v", err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			t.Errorf("setns: %v", err)
			return
		}
		f()
	}()
	<-done
}

// TestMulticastFeed: the receiver joins a multicast group on an interface
// and gets a publisher's packets sent to the group, gaps recovered from the
// re-request server, inside a namespace of the test's own.
func TestMulticastFeed(t *testing.T) {
	var r *Receiver
	var pub *Publisher
	var srv *RetransmitServer
	var mu sync.Mutex
	var got []string
	inNetns(t, func() {
		var err error
		if srv, err = ListenRetransmit("127.0.0.1:0", sess, NewMemStore(1)); err != nil {
			t.Error(err)
			return
		}
		if r, err = Listen(ReceiverConfig{Listen: "239.1.2.3:26400", Multicast: true, Interface: "lo", Rerequest: srv.Addr(),
			Session: SessionOptions{Deadline: time.Minute}}, func(seq uint64, msg []byte) {
			mu.Lock()
			got = append(got, string(msg))
			mu.Unlock()
		}); err != nil {
			t.Error(err)
			return
		}
		pub, err = Dial("239.1.2.3:26400", sess)
		if err != nil {
			t.Error(err)
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	defer pub.Close()
	srv.sessions[0].store = pub.Store
	go srv.Serve()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for i := 1; i <= 500; i++ {
		pub.Add(fmt.Appendf(nil, "m%d", i))
		if i%5 == 0 {
			if i%25 == 10 {
				pub.Skip()
			} else {
				pub.Flush()
			}
		}
	}
	for {
		pub.Heartbeat(true)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("receiver: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 500 || got[0] != "m1" || got[499] != "m500" || r.S.Stats.Recovered.Load() < 100 {
				t.Fatalf("delivered %d, recovered %d", len(got), r.S.Stats.Recovered.Load())
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}
