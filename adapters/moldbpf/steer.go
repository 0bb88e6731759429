package moldbpf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// Steering: several MoldUDP64 channels (sessions) arriving on one UDP port
// go to a group of SO_REUSEPORT sockets, one per receiving loop, and an
// SK_REUSEPORT program sends each datagram to the socket of the loop that
// owns its session — instead of the kernel's 4-tuple hash, which sends a
// venue's channels from one source address all to the same socket.

// SessionKey is a channel's key: its 10-byte MoldUDP64 session name,
// zero-padded to 16 bytes.
type SessionKey [16]byte

// KeyOf returns the key of session name (at most 10 bytes; padded with
// spaces as MoldUDP64 does).
func KeyOf(name string) SessionKey {
	var k SessionKey
	copy(k[:10], fmt.Sprintf("%-10s", name))
	return k
}

// Group is a SO_REUSEPORT group of UDP sockets on one address with the
// steering program attached.
type Group struct {
	Conns    []*net.UDPConn // Conns[i] gets the sessions steered to i
	sessions *ebpf.Map
	socks    *ebpf.Map
	prog     *ebpf.Program
}

// ListenGroup opens n SO_REUSEPORT UDP sockets on addr and attaches the
// steering program: a datagram whose session is in steer goes to socket
// steer[session]; any other to the kernel's choice.
func ListenGroup(addr string, n int, steer map[string]int) (*Group, error) {
	if n < 1 || n > 64 {
		return nil, fmt.Errorf("moldbpf: %d sockets: want 1 to 64", n)
	}
	g := &Group{}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) }); err != nil {
			return err
		}
		return serr
	}}
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(context.Background(), "udp4", addr)
		if err != nil {
			g.Close()
			return nil, fmt.Errorf("moldbpf: reuseport socket %d on %s: %w", i, addr, err)
		}
		g.Conns = append(g.Conns, pc.(*net.UDPConn))
		if i == 0 {
			addr = pc.LocalAddr().String() // the port :0 chose
		}
	}
	var err error
	if g.socks, err = ebpf.NewMap(&ebpf.MapSpec{Name: "mold_socks", Type: ebpf.ReusePortSockArray, KeySize: 4, ValueSize: 8,
		MaxEntries: uint32(n)}); err != nil {
		g.Close()
		return nil, fmt.Errorf("moldbpf: socket array: %w", err)
	}
	if g.sessions, err = ebpf.NewMap(&ebpf.MapSpec{Name: "mold_sessions", Type: ebpf.Hash, KeySize: 16, ValueSize: 4,
		MaxEntries: uint32(max(1, len(steer)))}); err != nil {
		g.Close()
		return nil, fmt.Errorf("moldbpf: session map: %w", err)
	}
	for i, c := range g.Conns {
		if err := withFD(c, func(fd int) error { return g.socks.Put(uint32(i), uint64(fd)) }); err != nil {
			g.Close()
			return nil, fmt.Errorf("moldbpf: socket %d into the array: %w", i, err)
		}
	}
	for name, i := range steer {
		if i < 0 || i >= n {
			g.Close()
			return nil, fmt.Errorf("moldbpf: session %q to socket %d of %d", name, i, n)
		}
		if err := g.sessions.Put(KeyOf(name), uint32(i)); err != nil {
			g.Close()
			return nil, fmt.Errorf("moldbpf: session %q: %w", name, err)
		}
	}
	if g.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{Name: "mold_steer", Type: ebpf.SkReuseport,
		AttachType: ebpf.AttachSkReuseportSelect, License: "Apache-2.0", Instructions: steerProgram(g.sessions.FD(), g.socks.FD())}); err != nil {
		g.Close()
		return nil, fmt.Errorf("moldbpf: load the steering program: %w", err)
	}
	if err := withFD(g.Conns[0], func(fd int) error {
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_EBPF, g.prog.FD())
	}); err != nil {
		g.Close()
		return nil, fmt.Errorf("moldbpf: attach the steering program: %w", err)
	}
	return g, nil
}

// Close closes the sockets and frees the program and maps.
func (g *Group) Close() error {
	var errs []error
	for _, c := range g.Conns {
		errs = append(errs, c.Close())
	}
	for _, c := range []interface{ Close() error }{g.prog, g.sessions, g.socks} {
		if c != nil && !isNilCloser(c) {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

func isNilCloser(c interface{ Close() error }) bool {
	switch v := c.(type) {
	case *ebpf.Program:
		return v == nil
	case *ebpf.Map:
		return v == nil
	}
	return false
}

func withFD(c *net.UDPConn, f func(fd int) error) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// steerProgram: look the datagram's session up, select its socket.
//
//	r6 ctx; r2 data (the UDP header); r3 data_end
func steerProgram(sessionsFD, socksFD int) asm.Instructions {
	const skPass = 1
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.DWord), // ctx->data
		asm.LoadMem(asm.R3, asm.R6, 8, asm.DWord), // ctx->data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 8+10), // the UDP header and the session name
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R5, asm.R2, 8, asm.DWord),
		asm.StoreMem(asm.RFP, -16, asm.R5, asm.DWord),
		asm.LoadMem(asm.R5, asm.R2, 16, asm.Half),
		asm.StoreMem(asm.RFP, -8, asm.R5, asm.Half),
		asm.StoreImm(asm.RFP, -6, 0, asm.Half),
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, sessionsFD),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -16),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"), // not a steered session: the kernel's choice
		asm.LoadMem(asm.R4, asm.R0, 0, asm.Word),
		asm.StoreMem(asm.RFP, -20, asm.R4, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, socksFD),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -20),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnSkSelectReuseport.Call(),
		asm.Mov.Imm(asm.R0, skPass).WithSymbol("pass"),
		asm.Return(),
	}
}
