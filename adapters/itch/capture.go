package itch

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Capture formats and link types the CaptureReader reads.
const (
	pcapMagicMicro  = 0xa1b2c3d4
	pcapMagicNano   = 0xa1b23c4d
	pcapngSHB       = 0x0a0d0d0a
	pcapngBOM       = 0x1a2b3c4d
	linkEthernet    = 1
	linkRaw         = 101
	linkLinuxSLL    = 113
	maxCaptureBlock = 1 << 20 // a larger record or block is refused as corrupt
	moldHeaderLen   = 20      // session (10), sequence (8), message count (2)
	moldEndSession  = 0xffff
)

// CaptureReader reads the ITCH messages of MoldUDP64 datagrams in a libpcap
// (microsecond or nanosecond timestamps, either byte order) or pcapng
// capture (Enhanced and Simple Packet Blocks, each interface's timestamp
// resolution). Link types: Ethernet (with 802.1Q/802.1ad tags), raw IP and
// Linux cooked (SLL); IPv4 (unfragmented) and IPv6 (no extension headers).
//
// Every UDP datagram is taken as MoldUDP64 whatever its ports (many
// published captures have their addresses and ports zeroed). A frame that
// is not UDP, a datagram shorter than the MoldUDP64 header, or message
// blocks that overrun the datagram are refused (BadPacket, counted,
// LastRefusal set); the messages of the packet before the overrun are
// delivered. A message that fails its type or length check is refused like
// in a file. A capture cut inside a record or block is ErrTruncated; a bad
// file header, an unknown link type or a record longer than 1 MiB is
// ErrBadCapture.
type CaptureReader struct {
	r       *bufio.Reader
	off     int64 // bytes consumed
	order   binary.ByteOrder
	ng      bool
	link    uint16   // pcap: the file's link type
	ifLink  []uint16 // pcapng: link type per interface
	ifScale []int64  // pcapng: ns per timestamp unit, 0 when units are finer than 1 ns
	ifDiv   []int64  // pcapng: timestamp units per ns when finer
	nano    bool     // pcap: ns timestamps
	rec     []byte   // the current record/block body
	// The current packet's MoldUDP64 message blocks.
	pkt     []byte
	pktOff  int64
	pktSeq  uint64
	pktLeft int
	recv    int64
	counts  Counts
	refusal error
}

// NewCaptureReader reads the capture header of r.
func NewCaptureReader(r io.Reader) (*CaptureReader, error) {
	c := &CaptureReader{r: bufio.NewReaderSize(r, 1<<16), rec: make([]byte, 0, 1<<16)}
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return nil, readErr(err, 0, -1, -1, "in the capture's magic number")
	}
	switch {
	case binary.BigEndian.Uint32(hdr[:]) == pcapngSHB:
		c.ng = true
		c.off = 0
		if err := c.readSHB(); err != nil {
			return nil, err
		}
		return c, nil
	case binary.LittleEndian.Uint32(hdr[:]) == pcapMagicMicro || binary.LittleEndian.Uint32(hdr[:]) == pcapMagicNano:
		c.order = binary.LittleEndian
	case binary.BigEndian.Uint32(hdr[:]) == pcapMagicMicro || binary.BigEndian.Uint32(hdr[:]) == pcapMagicNano:
		c.order = binary.BigEndian
	default:
		return nil, &Error{Offset: 0, Type: -1, Length: -1, Err: ErrBadCapture,
			Detail: fmt.Sprintf("magic %x is neither pcap nor pcapng", hdr)}
	}
	c.nano = c.order.Uint32(hdr[:]) == pcapMagicNano
	var rest [20]byte
	if _, err := io.ReadFull(c.r, rest[:]); err != nil {
		return nil, readErr(err, 4, -1, -1, "in the pcap file header")
	}
	c.off = 24
	c.link = uint16(c.order.Uint32(rest[16:]))
	if !knownLink(c.link) {
		return nil, &Error{Offset: 20, Type: -1, Length: -1, Err: ErrBadCapture,
			Detail: fmt.Sprintf("link type %d (want Ethernet 1, raw IP 101 or Linux SLL 113)", c.link)}
	}
	return c, nil
}

func knownLink(l uint16) bool { return l == linkEthernet || l == linkRaw || l == linkLinuxSLL }

// Next implements MessageReader. The message is valid until the next call.
func (c *CaptureReader) Next() (Message, Meta, error) {
	for {
		if c.pktLeft > 0 {
			if m, meta, ok := c.nextInPacket(); ok {
				return m, meta, nil
			}
			continue
		}
		if err := c.nextPacket(); err != nil {
			return Message{}, Meta{}, err
		}
	}
}

// nextInPacket takes the next message block of the current packet; ok is
// false when the block was refused (or overran the packet).
func (c *CaptureReader) nextInPacket() (Message, Meta, bool) {
	c.pktLeft--
	seq := c.pktSeq
	c.pktSeq++
	if len(c.pkt) < 2 || len(c.pkt) < 2+int(binary.BigEndian.Uint16(c.pkt)) {
		c.refuse(&Error{Offset: c.pktOff, Type: -1, Length: len(c.pkt), Err: ErrBadPacket,
			Detail: fmt.Sprintf("MoldUDP64 message block %d overruns the datagram (%d bytes left, %d messages still announced)",
				seq, len(c.pkt), c.pktLeft+1)})
		c.pktLeft = 0
		return Message{}, Meta{}, false
	}
	l := int(binary.BigEndian.Uint16(c.pkt))
	b := c.pkt[2 : 2+l]
	c.pkt = c.pkt[2+l:]
	m, err := parseAt(b, c.pktOff)
	if err != nil {
		c.counts.refuse(err)
		c.refusal = err
		return Message{}, Meta{}, false
	}
	c.counts.Messages++
	c.counts.ByType[b[0]]++
	return m, Meta{Seq: seq, RecvNanos: c.recv, Offset: c.pktOff}, true
}

func (c *CaptureReader) refuse(err error) {
	c.counts.BadPacket++
	c.refusal = err
}

// nextPacket reads records until one holds a MoldUDP64 packet with
// messages, and makes it current.
func (c *CaptureReader) nextPacket() error {
	for {
		start := c.off
		frame, link, recv, err := c.readFrame()
		if err != nil {
			return err
		}
		if frame == nil {
			continue // a pcapng block that holds no packet
		}
		c.counts.Packets++
		udp, why := udpPayload(frame, link)
		if why != "" {
			c.refuse(&Error{Offset: start, Type: -1, Length: len(frame), Err: ErrBadPacket, Detail: why})
			continue
		}
		if len(udp) < moldHeaderLen {
			c.refuse(&Error{Offset: start, Type: -1, Length: len(udp), Err: ErrBadPacket,
				Detail: fmt.Sprintf("a %d-byte UDP payload is shorter than the MoldUDP64 header (%d)", len(udp), moldHeaderLen)})
			continue
		}
		count := binary.BigEndian.Uint16(udp[18:])
		switch count {
		case 0:
			c.counts.Heartbeats++
			continue
		case moldEndSession:
			c.counts.EndSession++
			continue
		}
		c.pkt, c.pktOff, c.pktSeq, c.pktLeft, c.recv = udp[moldHeaderLen:], start, binary.BigEndian.Uint64(udp[10:]), int(count), recv
		return nil
	}
}

// readFrame reads the next capture record (pcap) or block (pcapng). frame
// is nil for a pcapng block that carries no packet.
func (c *CaptureReader) readFrame() (frame []byte, link uint16, recv int64, err error) {
	if c.ng {
		return c.readBlock()
	}
	start := c.off
	var h [16]byte
	n, err := io.ReadFull(c.r, h[:])
	c.off += int64(n)
	if err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return nil, 0, 0, io.EOF
		}
		return nil, 0, 0, readErr(err, start, -1, -1, "in a pcap record header")
	}
	incl := c.order.Uint32(h[8:])
	if incl > maxCaptureBlock {
		return nil, 0, 0, &Error{Offset: start, Type: -1, Length: int(min(incl, 1<<31-1)), Err: ErrBadCapture,
			Detail: fmt.Sprintf("record of %d bytes (at most %d)", incl, maxCaptureBlock)}
	}
	if err := c.body(int(incl), start, "pcap record"); err != nil {
		return nil, 0, 0, err
	}
	frac := int64(c.order.Uint32(h[4:]))
	if !c.nano {
		frac *= 1000
	}
	return c.rec, c.link, int64(c.order.Uint32(h[0:]))*1_000_000_000 + frac, nil
}

// body reads n bytes into c.rec.
func (c *CaptureReader) body(n int, start int64, what string) error {
	if cap(c.rec) < n {
		c.rec = make([]byte, n)
	}
	c.rec = c.rec[:n]
	k, err := io.ReadFull(c.r, c.rec)
	c.off += int64(k)
	if err != nil {
		return readErr(err, start, -1, n, fmt.Sprintf("%d of %d bytes of a %s", k, n, what))
	}
	return nil
}

// Counts implements MessageReader.
func (c *CaptureReader) Counts() *Counts { return &c.counts }

// LastRefusal implements MessageReader.
func (c *CaptureReader) LastRefusal() error { return c.refusal }

// Offset returns the bytes consumed so far.
func (c *CaptureReader) Offset() int64 { return c.off }
