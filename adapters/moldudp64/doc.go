// Package moldudp64 is Nasdaq's MoldUDP64 transport: the downstream packet
// (session, sequence number, message count, then length-prefixed
// messages), the re-request packet, per-session sequence tracking with gap
// detection and recovery from a re-request server under a deadline, and the
// two ends a feed needs besides the receiver: a publisher and a
// retransmission server (used by feed-sim and the tests).
//
// Messages are opaque here (ITCH 5.0 for Nasdaq, BX and PSX; adapters/itch
// decodes them). In-order messages are handed to the caller as sub-slices of
// the packet, without copying or allocating; only messages that arrive ahead
// of a gap are copied, into a buffer bounded by SessionOptions.MaxPending.
// A gap that is not filled within SessionOptions.Deadline is given up: it is
// reported once (Session.OnLost) and counted, never skipped silently.
//
// A Receiver is one receiving loop: it follows one or more channels (a
// venue's sessions, ListenChannels) on one socket — its own, or one given to
// it (ReceiverConfig.Conn: a socket of an eBPF steering group) — routes each
// datagram to the session its header names (counting the ones of no channel
// it follows: Unrouted), and asks each channel's own re-request server for
// that channel's gaps. A RetransmitServer answers for one or more sessions.
//
// Bad packets (short header, a message running past the datagram, a foreign
// session, a sequence jump beyond MaxJump) are refused with an error that
// names what was wrong and are counted; the session goes on with the next
// packet. Nothing here panics on outside bytes (FuzzParsePacket,
// FuzzSession).
package moldudp64
