package itch

import (
	"encoding/binary"
	"fmt"
)

// udpPayload returns the UDP payload of a captured frame, or why it has
// none. It trusts no length: every header is checked against the bytes
// captured.
func udpPayload(f []byte, link uint16) ([]byte, string) {
	var ether uint16
	switch link {
	case linkEthernet:
		if len(f) < 14 {
			return nil, "Ethernet frame shorter than its header"
		}
		ether, f = binary.BigEndian.Uint16(f[12:]), f[14:]
		for ether == 0x8100 || ether == 0x88a8 { // VLAN tags
			if len(f) < 4 {
				return nil, "VLAN tag cut short"
			}
			ether, f = binary.BigEndian.Uint16(f[2:]), f[4:]
		}
	case linkLinuxSLL:
		if len(f) < 16 {
			return nil, "Linux SLL frame shorter than its header"
		}
		ether, f = binary.BigEndian.Uint16(f[14:]), f[16:]
	default: // raw IP: the version nibble says which
		if len(f) == 0 {
			return nil, "empty raw IP frame"
		}
		ether = 0x0800
		if f[0]>>4 == 6 {
			ether = 0x86dd
		}
	}
	switch ether {
	case 0x0800:
		return ipv4UDP(f)
	case 0x86dd:
		return ipv6UDP(f)
	}
	return nil, fmt.Sprintf("EtherType %#04x is not IPv4 or IPv6", ether)
}

func ipv4UDP(f []byte) ([]byte, string) {
	if len(f) < 20 || f[0]>>4 != 4 {
		return nil, "not an IPv4 header"
	}
	ihl := int(f[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(f[2:]))
	if ihl < 20 || total < ihl || total > len(f) {
		return nil, fmt.Sprintf("IPv4 header length %d, total length %d, %d bytes captured", ihl, total, len(f))
	}
	if f[9] != 17 {
		return nil, fmt.Sprintf("IP protocol %d is not UDP", f[9])
	}
	if binary.BigEndian.Uint16(f[6:])&0x3fff != 0 {
		return nil, "a fragment of an IPv4 datagram (fragments are not reassembled)"
	}
	return udp(f[ihl:total])
}

func ipv6UDP(f []byte) ([]byte, string) {
	if len(f) < 40 || f[0]>>4 != 6 {
		return nil, "not an IPv6 header"
	}
	pl := int(binary.BigEndian.Uint16(f[4:]))
	if 40+pl > len(f) {
		return nil, fmt.Sprintf("IPv6 payload length %d, %d bytes captured", pl, len(f)-40)
	}
	if f[6] != 17 {
		return nil, fmt.Sprintf("IPv6 next header %d is not UDP (extension headers are not followed)", f[6])
	}
	return udp(f[40 : 40+pl])
}

func udp(f []byte) ([]byte, string) {
	if len(f) < 8 {
		return nil, "UDP header cut short"
	}
	l := int(binary.BigEndian.Uint16(f[4:]))
	if l < 8 || l > len(f) {
		return nil, fmt.Sprintf("UDP length %d, %d bytes in the IP payload", l, len(f))
	}
	return f[8:l], ""
}
