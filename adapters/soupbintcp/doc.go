// Package soupbintcp is Nasdaq's SoupBinTCP 3.0: a TCP session that delivers
// a server's sequenced messages in order, with a login (user name, password,
// session, next sequence number), heartbeats both ways, and an end of
// session. ITCH feeds use it for recovery and as a TCP feed; glimpse
// snapshots use it too.
//
// The client logs in at a sequence number and counts messages itself (the
// protocol carries no sequence number per message), so a client that
// reconnects with its session and next number neither loses nor repeats a
// message (Follow does exactly that). The server half (Server, Log) serves a
// message log to any number of clients, for feed-sim and the tests.
//
// Packets from the peer are bounded (MaxPacket), and every refusal names
// what was wrong: a short or oversize packet, an unknown type, a login
// refused and why, a peer silent past the timeout. Nothing here panics on
// outside bytes (FuzzReadPacket, FuzzClient).
package soupbintcp
