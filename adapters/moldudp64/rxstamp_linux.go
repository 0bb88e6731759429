package moldudp64

import (
	"encoding/binary"
	"net"
	"syscall"
	"unsafe"
)

// Kernel receive timestamps (SO_TIMESTAMPNS): the kernel stamps each
// datagram when the network stack takes it, and the stamp comes with the
// datagram as a control message. It measures what user-space time.Now
// cannot: how long a datagram waited in the socket buffer.

// oobLen is room for one SCM_TIMESTAMPNS control message (a timespec).
const oobLen = 64

// enableRxStamps asks the kernel to stamp c's datagrams.
func enableRxStamps(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// rxStamp returns the SCM_TIMESTAMPNS stamp in oob (ns since the Unix
// epoch), or 0 if there is none. It does not allocate.
func rxStamp(oob []byte) int64 {
	const hdr = int(unsafe.Sizeof(syscall.Cmsghdr{}))
	for len(oob) >= hdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdr || l > len(oob) {
			return 0
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && l >= hdr+16 {
			d := oob[cmsgAlign(hdr):]
			sec := int64(binary.NativeEndian.Uint64(d[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(d[8:16]))
			return sec*1e9 + nsec
		}
		next := cmsgAlign(l)
		if next >= len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}

func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}
