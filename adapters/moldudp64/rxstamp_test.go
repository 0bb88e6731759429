package moldudp64

import (
	"context"
	"encoding/binary"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// stampFeed sends three one-message packets to a receiver on loopback and
// returns, per message, the send time, the receive time the session gave
// it (Session.Rx during Deliver) and the time it was delivered.
func stampFeed(t *testing.T, before func(r *Receiver)) (sent, rx, got []int64, r *Receiver) {
	t.Helper()
	var mu sync.Mutex
	delivered := make(chan struct{}, 16)
	r, err := Listen(ReceiverConfig{Listen: "127.0.0.1:0"}, func(seq uint64, msg []byte) {
		mu.Lock()
		rx = append(rx, r.S.Rx())
		got = append(got, time.Now().UnixNano())
		mu.Unlock()
		delivered <- struct{}{}
	})
	if err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	pub, err := Dial(r.Addr().String(), sess)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for i := 0; i < 3; i++ {
		if _, err := pub.Add([]byte{'m', byte('0' + i)}); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, time.Now().UnixNano())
		if err := pub.Flush(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-delivered:
		case <-time.After(30 * time.Second):
			t.Fatalf("message %d not delivered", i)
		}
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return sent, rx, got, r
}

// TestKernelRxStamps: every datagram carries the kernel's receive time
// (SO_TIMESTAMPNS), and each message delivered has its packet's: after it
// was sent and before it was delivered.
func TestKernelRxStamps(t *testing.T) {
	sent, rx, got, r := stampFeed(t, nil)
	if r.StampErr != nil {
		t.Fatalf("SO_TIMESTAMPNS refused on this machine: %v", r.StampErr)
	}
	if r.Stamped.Load() != 3 || r.Unstamped.Load() != 0 {
		t.Fatalf("stamped %d, unstamped %d: want 3 and 0", r.Stamped.Load(), r.Unstamped.Load())
	}
	for i := range sent {
		if rx[i] < sent[i] || rx[i] > got[i] {
			t.Fatalf("message %d: sent %d, received %d, delivered %d", i, sent[i], rx[i], got[i])
		}
	}
}

// TestRxStampFallback: without kernel stamps (switched off on the socket
// here, as a kernel refusing them would), each datagram is stamped when the
// receiver read it, and counted as unstamped.
func TestRxStampFallback(t *testing.T) {
	sent, rx, got, r := stampFeed(t, func(r *Receiver) {
		rc, err := r.feed.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		rc.Control(func(fd uintptr) {
			if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 0); err != nil {
				t.Fatal(err)
			}
		})
	})
	if r.Stamped.Load() != 0 || r.Unstamped.Load() != 3 {
		t.Fatalf("stamped %d, unstamped %d: want 0 and 3", r.Stamped.Load(), r.Unstamped.Load())
	}
	for i := range sent {
		if rx[i] < sent[i] || rx[i] > got[i] {
			t.Fatalf("message %d: sent %d, read %d, delivered %d", i, sent[i], rx[i], got[i])
		}
	}
}

// cmsg builds one control message of level/type with data.
func cmsg(level, typ int32, data []byte) []byte {
	hdr := int(unsafe.Sizeof(syscall.Cmsghdr{}))
	b := make([]byte, cmsgAlign(hdr+len(data)))
	binary.NativeEndian.PutUint64(b, uint64(hdr+len(data)))
	binary.NativeEndian.PutUint32(b[8:], uint32(level))
	binary.NativeEndian.PutUint32(b[12:], uint32(typ))
	copy(b[hdr:], data)
	return b
}

func TestRxStampParse(t *testing.T) {
	ts := make([]byte, 16)
	binary.NativeEndian.PutUint64(ts, 1_700_000_000)
	binary.NativeEndian.PutUint64(ts[8:], 123)
	const want = 1_700_000_000*1e9 + 123
	stamp := cmsg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, ts)
	other := cmsg(syscall.SOL_SOCKET, syscall.SCM_RIGHTS, []byte{1, 2, 3, 4})
	zeroLen := make([]byte, 16) // a header claiming 0 bytes: must not loop
	f := func(name string, oob []byte, want int64) {
		t.Helper()
		if got := rxStamp(oob); got != want {
			t.Errorf("%s: %d, want %d", name, got, want)
		}
	}
	f("none", nil, 0)
	f("stamp", stamp, want)
	f("after another message", append(append([]byte{}, other...), stamp...), want)
	f("truncated header", stamp[:10], 0)
	f("truncated data", stamp[:20], 0)
	f("zero length", zeroLen, 0)
	f("short stamp", cmsg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, ts[:8]), 0)
}

// FuzzRxStamp: control-message bytes never make rxStamp panic or loop.
func FuzzRxStamp(f *testing.F) {
	ts := make([]byte, 16)
	f.Add(cmsg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, ts))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) { rxStamp(b) })
}
