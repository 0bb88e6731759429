//go:build !linux

package moldudp64

import (
	"errors"
	"net"
	"sync/atomic"
)

type busyReader struct{}

func newBusyReader(*net.UDPConn, *atomic.Bool) (*busyReader, error) {
	return nil, errors.New("moldudp64: busy polling is linux only")
}

func (*busyReader) read(buf, oob []byte) (int, int, error) { return 0, 0, errors.New("unsupported") }
