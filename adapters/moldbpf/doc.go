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
// sends every channel from one source address to the same socket.
//
// The programs are written with cilium/ebpf's asm package (no C toolchain at
// build time) and passes every packet on (XDP_PASS): it only counts.
//
// It needs root (CAP_BPF and CAP_NET_ADMIN) and a kernel with XDP. Where
// either refuses, Attach returns the reason and the engine runs without it
// (saying so once and counting it). It never touches the hot path.
package moldbpf
