// Package moldbpf puts eBPF on a MoldUDP64 feed's path (cilium/ebpf): an
// XDP program on the feed's network interface that counts, per feed UDP
// port, the packets the driver saw and the sequence gaps on the wire —
// before the kernel's socket buffer, the receiver goroutine or the engine
// could lose anything. Comparing them with what the receiver's socket read
// tells a gap on the wire (the exchange or the network dropped it) from a
// drop in this host (a full socket buffer, a slow process).
//
// ListenGroup opens a SO_REUSEPORT group of UDP sockets on one port with an
// SK_REUSEPORT program that steers each MoldUDP64 channel (session) to the
// socket of the loop that owns it; without it the kernel's 4-tuple hash
// sends every channel from one source address to the same socket. The
// engine uses it for feed.moldudp64.steering: ebpf, one receiving loop per
// socket. A datagram of a session the program does not know, or whose
// socket is gone, goes to the kernel's choice (the receiver there counts it
// as unrouted).
//
// The programs are written with cilium/ebpf's asm package (no C toolchain at
// build time); the XDP program passes every packet on (XDP_PASS): it only
// counts.
//
// They need root (CAP_BPF and CAP_NET_ADMIN) and a kernel with XDP and
// SK_REUSEPORT programs. Where either refuses, Attach and ListenGroup return
// the reason and the engine runs without them (saying so once and counting
// it: xdp_unavailable, steer_unavailable). Neither touches the hot path: the
// programs run in the kernel, and the maps are filled once at start.
package moldbpf
