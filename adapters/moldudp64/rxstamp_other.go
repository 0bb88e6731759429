//go:build !linux

package moldudp64

import (
	"errors"
	"net"
)

const oobLen = 64

func enableRxStamps(*net.UDPConn) error {
	return errors.New("kernel receive timestamps: not supported on this system")
}

func rxStamp([]byte) int64 { return 0 }
