package moldbpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// Mode is how the XDP program is attached.
type Mode string

const (
	// ModeAuto tries the driver's native XDP, then generic (skb) XDP.
	ModeAuto Mode = "auto"
	// ModeNative is the driver's own XDP (refused by drivers without it).
	ModeNative Mode = "native"
	// ModeGeneric runs in the kernel's receive path after the skb is built:
	// every driver, a little later and slower.
	ModeGeneric Mode = "generic"
)

// Counts is what the XDP program counted for one feed port. The layout is
// the map value's.
type Counts struct {
	Packets  uint64 // MoldUDP64 packets seen on the wire (data, heartbeats, end)
	Gaps     uint64 // packets whose sequence number jumped past the next expected
	Missed   uint64 // messages skipped by those jumps
	Next     uint64 // next sequence number expected (0: no packet yet)
	Reorders uint64 // data packets below the next expected (late or repeated)
	Messages uint64 // messages in data packets
}

// Counter is an attached XDP program and its per-port counts.
type Counter struct {
	Mode  Mode // the mode it is attached in
	ports *ebpf.Map
	prog  *ebpf.Program
	link  link.Link
}

// Attach loads the program and attaches it to interface ifname, counting
// MoldUDP64 datagrams to the given UDP destination ports (IPv4, no IP
// options; anything else passes uncounted).
func Attach(ifname string, mode Mode, ports ...uint16) (*Counter, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("moldbpf: interface %q: %w", ifname, err)
	}
	if len(ports) == 0 {
		return nil, errors.New("moldbpf: no feed port to count")
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Name: "mold_ports", Type: ebpf.Hash, KeySize: 4,
		ValueSize: uint32(binary.Size(Counts{})), MaxEntries: uint32(len(ports))})
	if err != nil {
		return nil, fmt.Errorf("moldbpf: create the counts map: %w", err)
	}
	for _, p := range ports {
		if err := m.Put(portKey(p), Counts{}); err != nil {
			m.Close()
			return nil, fmt.Errorf("moldbpf: port %d: %w", p, err)
		}
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "mold_xdp", Type: ebpf.XDP, License: "Apache-2.0",
		Instructions: program(m.FD())})
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("moldbpf: load the XDP program: %w", err)
	}
	c := &Counter{ports: m, prog: prog}
	try := []Mode{mode}
	if mode == ModeAuto || mode == "" {
		try = []Mode{ModeNative, ModeGeneric}
	}
	for _, md := range try {
		flags := link.XDPGenericMode
		switch md {
		case ModeNative:
			flags = link.XDPDriverMode
		case ModeGeneric:
		default:
			c.Close()
			return nil, fmt.Errorf("moldbpf: mode %q: want auto, native or generic", md)
		}
		c.link, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifi.Index, Flags: flags})
		if err == nil {
			c.Mode = md
			return c, nil
		}
	}
	c.Close()
	return nil, fmt.Errorf("moldbpf: attach XDP to %s (%s): %w", ifname, mode, err)
}

// Counts returns the counts of port.
func (c *Counter) Counts(port uint16) (Counts, error) {
	var v Counts
	if err := c.ports.Lookup(portKey(port), &v); err != nil {
		return v, fmt.Errorf("moldbpf: counts of port %d: %w", port, err)
	}
	return v, nil
}

// Close detaches the program and frees it and its map.
func (c *Counter) Close() error {
	var errs []error
	if c.link != nil {
		errs = append(errs, c.link.Close())
	}
	if c.prog != nil {
		errs = append(errs, c.prog.Close())
	}
	errs = append(errs, c.ports.Close())
	return errors.Join(errs...)
}

// portKey is the map key of a UDP port: its two bytes as on the wire
// (network order), read by the program as a little-endian u16.
func portKey(p uint16) uint32 { return uint32(p>>8 | p<<8&0xff00) }

// Packet layout the program reads (IPv4 without options).
const (
	offEtherType = 12
	offIPVerIHL  = 14
	offIPProto   = 23
	offUDPDst    = 36
	offMoldSeq   = 42 + 10 // UDP payload at 42; the session name is 10 bytes
	offMoldCount = 42 + 18
	minLen       = 42 + 20 // headers and the MoldUDP64 header

	xdpPass = 2
)

// Offsets of Counts' fields in the map value.
const (
	valPackets  = 0
	valGaps     = 8
	valMissed   = 16
	valNext     = 24
	valReorders = 32
	valMessages = 40
)

// program returns the XDP program counting into the map with fd mapFD.
//
//	r6 ctx; r2 data; r3 data_end; r7 sequence number; r8 message count
//	r5 end of the packet's sequence range; r9 next expected; r0 the value
func program(mapFD int) asm.Instructions {
	incr := func(off int16, by asm.Register) asm.Instructions {
		return asm.Instructions{
			asm.LoadMem(asm.R1, asm.R0, off, asm.DWord),
			asm.Add.Reg(asm.R1, by),
			asm.StoreMem(asm.R0, off, asm.R1, asm.DWord),
		}
	}
	ins := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.Word), // ctx->data
		asm.LoadMem(asm.R3, asm.R6, 4, asm.Word), // ctx->data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, minLen),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R4, asm.R2, offEtherType, asm.Half),
		asm.JNE.Imm(asm.R4, 0x0008, "pass"), // 0x0800 (IPv4) in network order
		asm.LoadMem(asm.R4, asm.R2, offIPVerIHL, asm.Byte),
		asm.JNE.Imm(asm.R4, 0x45, "pass"), // IPv4, no options
		asm.LoadMem(asm.R4, asm.R2, offIPProto, asm.Byte),
		asm.JNE.Imm(asm.R4, 17, "pass"), // UDP
		asm.LoadMem(asm.R4, asm.R2, offUDPDst, asm.Half),
		asm.StoreMem(asm.RFP, -4, asm.R4, asm.Word), // key
		asm.LoadMem(asm.R7, asm.R2, offMoldSeq, asm.DWord),
		asm.HostTo(asm.BE, asm.R7, asm.DWord),
		asm.LoadMem(asm.R8, asm.R2, offMoldCount, asm.Half),
		asm.HostTo(asm.BE, asm.R8, asm.Half),
		asm.LoadMapPtr(asm.R1, mapFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"), // not a feed port
		asm.Mov.Imm(asm.R5, 1),
	}
	ins = append(ins, incr(valPackets, asm.R5)...)
	ins = append(ins,
		asm.LoadMem(asm.R9, asm.R0, valNext, asm.DWord),
		asm.Mov.Reg(asm.R5, asm.R7),
		asm.JEq.Imm(asm.R8, 0, "compare"),      // a heartbeat: Seq is the next to come
		asm.JEq.Imm(asm.R8, 0xffff, "compare"), // the end of the session: likewise
		asm.Add.Reg(asm.R5, asm.R8),
	)
	ins = append(ins, incr(valMessages, asm.R8)...)
	ins = append(ins,
		asm.JGE.Reg(asm.R7, asm.R9, "compare"),
		asm.Mov.Imm(asm.R4, 1),
	)
	late := incr(valReorders, asm.R4)
	ins = append(ins, late...)
	ins = append(ins,
		asm.Ja.Label("setnext"),
		asm.JEq.Imm(asm.R9, 0, "setnext").WithSymbol("compare"), // the first packet
		asm.JLE.Reg(asm.R7, asm.R9, "setnext"),
		asm.Mov.Imm(asm.R4, 1),
	)
	ins = append(ins, incr(valGaps, asm.R4)...)
	ins = append(ins,
		asm.Mov.Reg(asm.R4, asm.R7),
		asm.Sub.Reg(asm.R4, asm.R9),
	)
	ins = append(ins, incr(valMissed, asm.R4)...)
	ins = append(ins,
		asm.JLE.Reg(asm.R5, asm.R9, "pass").WithSymbol("setnext"),
		asm.StoreMem(asm.R0, valNext, asm.R5, asm.DWord),
		asm.Mov.Imm(asm.R0, xdpPass).WithSymbol("pass"),
		asm.Return(),
	)
	return ins
}
