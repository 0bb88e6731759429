package moldudp64

import (
	"errors"
	"net"
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// busyReader reads a socket without the network poller: each read is a
// non-blocking recvmsg, and an empty socket makes the goroutine yield
// (runtime.Gosched) and try again. Next to loops that never park (rings.wait:
// yield) the runtime seldom polls the network — as rarely as every 10 ms —
// so a goroutine parked in the poller waits that long for its packet; a
// busy reader takes its turn with them instead.
type busyReader struct {
	rc      syscallConn
	closing *atomic.Bool
}

type syscallConn interface {
	Read(func(fd uintptr) bool) error
}

func newBusyReader(c *net.UDPConn, closing *atomic.Bool) (*busyReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &busyReader{rc: rc, closing: closing}, nil
}

// errClosed ends a busy read when the receiver is closing.
var errClosed = errors.New("moldudp64: receiver closed")

// read reads one datagram and its control messages.
func (b *busyReader) read(buf, oob []byte) (n, oobn int, err error) {
	cerr := b.rc.Read(func(fd uintptr) bool {
		for {
			n, oobn, _, _, err = unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT)
			if err != unix.EAGAIN && err != unix.EINTR {
				return true
			}
			if b.closing.Load() {
				err = errClosed
				return true
			}
			runtime.Gosched()
		}
	})
	if cerr != nil {
		return 0, 0, cerr
	}
	return n, oobn, err
}
