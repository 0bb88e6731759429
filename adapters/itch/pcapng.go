package itch

import (
	"encoding/binary"
	"fmt"
	"io"
)

// pcapng block types the reader uses; others are skipped.
const (
	blockIDB = 1
	blockSPB = 3
	blockEPB = 6
)

// readSHB reads the rest of a Section Header Block whose type the caller
// has read: the byte-order magic decides the section's byte order.
func (c *CaptureReader) readSHB() error {
	var h [8]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return readErr(err, 0, -1, -1, "in the pcapng section header")
	}
	switch {
	case binary.LittleEndian.Uint32(h[4:]) == pcapngBOM:
		c.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[4:]) == pcapngBOM:
		c.order = binary.BigEndian
	default:
		return &Error{Offset: 8, Type: -1, Length: -1, Err: ErrBadCapture,
			Detail: fmt.Sprintf("pcapng byte-order magic %x", h[4:])}
	}
	total := c.order.Uint32(h[:4])
	if total < 28 || total%4 != 0 || total > maxCaptureBlock {
		return &Error{Offset: 0, Type: -1, Length: int(min(total, 1<<31-1)), Err: ErrBadCapture,
			Detail: "pcapng section header block length"}
	}
	c.off = 12
	c.ifLink, c.ifScale, c.ifDiv = c.ifLink[:0], c.ifScale[:0], c.ifDiv[:0]
	return c.body(int(total)-12, 0, "pcapng section header block")
}

// readBlock reads one pcapng block. frame is nil for a block without a
// packet.
func (c *CaptureReader) readBlock() (frame []byte, link uint16, recv int64, err error) {
	start := c.off
	var h [8]byte
	n, err := io.ReadFull(c.r, h[:])
	c.off += int64(n)
	if err != nil {
		if n == 0 && err == io.EOF {
			return nil, 0, 0, io.EOF
		}
		return nil, 0, 0, readErr(err, start, -1, -1, "in a pcapng block header")
	}
	if binary.BigEndian.Uint32(h[:4]) == pcapngSHB {
		return nil, 0, 0, c.nextSection(start, h)
	}
	typ, total := c.order.Uint32(h[:4]), c.order.Uint32(h[4:])
	if total < 12 || total%4 != 0 || total > maxCaptureBlock {
		return nil, 0, 0, &Error{Offset: start, Type: -1, Length: int(min(total, 1<<31-1)), Err: ErrBadCapture,
			Detail: fmt.Sprintf("pcapng block type %d: length %d (a multiple of 4, 12 to %d)", typ, total, maxCaptureBlock)}
	}
	if err := c.body(int(total)-8, start, "pcapng block"); err != nil {
		return nil, 0, 0, err
	}
	b := c.rec[:len(c.rec)-4] // without the trailing length
	bad := func(detail string) error {
		return &Error{Offset: start, Type: -1, Length: int(total), Err: ErrBadCapture, Detail: detail}
	}
	switch typ {
	case blockIDB:
		if len(b) < 8 {
			return nil, 0, 0, bad("interface description block shorter than 16 bytes")
		}
		if err := c.addInterface(c.order.Uint16(b), b[8:]); err != nil {
			return nil, 0, 0, bad(err.Error())
		}
		return nil, 0, 0, nil
	case blockEPB:
		if len(b) < 20 {
			return nil, 0, 0, bad("enhanced packet block shorter than 32 bytes")
		}
		ifc := c.order.Uint32(b)
		capLen := c.order.Uint32(b[12:])
		if ifc >= uint32(len(c.ifLink)) {
			return nil, 0, 0, bad(fmt.Sprintf("enhanced packet block of interface %d: %d described", ifc, len(c.ifLink)))
		}
		if uint64(capLen) > uint64(len(b)-20) {
			return nil, 0, 0, bad(fmt.Sprintf("captured length %d overruns the block", capLen))
		}
		ts := uint64(c.order.Uint32(b[4:]))<<32 | uint64(c.order.Uint32(b[8:]))
		return b[20 : 20+capLen], c.ifLink[ifc], c.nanos(ifc, ts), nil
	case blockSPB:
		if len(c.ifLink) == 0 || len(b) < 4 {
			return nil, 0, 0, bad("simple packet block without an interface or its length")
		}
		l := min(uint64(c.order.Uint32(b)), uint64(len(b)-4))
		return b[4 : 4+l], c.ifLink[0], 0, nil
	}
	return nil, 0, 0, nil
}

// nextSection starts a new section whose SHB header h the caller has read.
func (c *CaptureReader) nextSection(start int64, h [8]byte) error {
	var bom [4]byte
	if _, err := io.ReadFull(c.r, bom[:]); err != nil {
		return readErr(err, start, -1, -1, "in a pcapng section header")
	}
	switch {
	case binary.LittleEndian.Uint32(bom[:]) == pcapngBOM:
		c.order = binary.LittleEndian
	case binary.BigEndian.Uint32(bom[:]) == pcapngBOM:
		c.order = binary.BigEndian
	default:
		return &Error{Offset: start, Type: -1, Length: -1, Err: ErrBadCapture, Detail: fmt.Sprintf("pcapng byte-order magic %x", bom)}
	}
	c.off += 4
	total := c.order.Uint32(h[4:])
	if total < 28 || total%4 != 0 || total > maxCaptureBlock {
		return &Error{Offset: start, Type: -1, Length: int(min(total, 1<<31-1)), Err: ErrBadCapture,
			Detail: "pcapng section header block length"}
	}
	c.ifLink, c.ifScale, c.ifDiv = c.ifLink[:0], c.ifScale[:0], c.ifDiv[:0]
	return c.body(int(total)-12, start, "pcapng section header block")
}

// addInterface records an interface's link type and timestamp resolution
// (option if_tsresol, code 9; default microseconds).
func (c *CaptureReader) addInterface(link uint16, opts []byte) error {
	if !knownLink(link) {
		return fmt.Errorf("interface %d: link type %d (want Ethernet 1, raw IP 101 or Linux SLL 113)", len(c.ifLink), link)
	}
	scale, div := int64(1000), int64(0) // µs
	for len(opts) >= 4 {
		code, l := c.order.Uint16(opts), int(c.order.Uint16(opts[2:]))
		if code == 0 {
			break
		}
		if 4+l > len(opts) {
			return fmt.Errorf("interface %d: option %d overruns the block", len(c.ifLink), code)
		}
		if code == 9 && l >= 1 {
			r := opts[4]
			if r&0x80 != 0 || r > 18 {
				return fmt.Errorf("interface %d: timestamp resolution %#x (want a power of ten up to 1e-18)", len(c.ifLink), r)
			}
			scale, div = 1, 1
			switch {
			case r <= 9:
				for range 9 - int(r) {
					scale *= 10
				}
				div = 0
			default:
				for range int(r) - 9 {
					div *= 10
				}
				scale = 0
			}
		}
		opts = opts[4+(l+3)&^3:]
	}
	c.ifLink = append(c.ifLink, link)
	c.ifScale = append(c.ifScale, scale)
	c.ifDiv = append(c.ifDiv, div)
	return nil
}

// nanos converts a timestamp of interface ifc to ns since the epoch.
func (c *CaptureReader) nanos(ifc uint32, ts uint64) int64 {
	if d := c.ifDiv[ifc]; d > 0 {
		return int64(ts / uint64(d))
	}
	return int64(ts) * c.ifScale[ifc]
}
