// Package moldbpf puts eBPF on a MoldUDP64 feed's path (cilium/ebpf): an
// XDP program on the feed's network interface that counts, per feed UDP
// port, the packets the driver saw and the sequence gaps on the wire —
// before the kernel's socket buffer, the receiver goroutine or the engine
// could lose anything. Comparing them with what the receiver's socket read
// tells a gap on the wire (the exchange or the network dropped it) from a
// drop in this host (a full socket buffer, a slow process).
//
// The program is written with cilium/ebpf's asm package (no C toolchain at
// build time) and passes every packet on (XDP_PASS): it only counts.
//
// It needs root (CAP_BPF and CAP_NET_ADMIN) and a kernel with XDP. Where
// either refuses, Attach returns the reason and the engine runs without it
// (saying so once and counting it). It never touches the hot path.
package moldbpf
