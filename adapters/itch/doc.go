// Package itch decodes Nasdaq TotalView-ITCH 5.0 and turns its order-level
// messages into record.MarketTick values for the engine.
//
// Readers: FileReader reads the 2-byte-length-framed files Nasdaq publishes
// (and BinaryFILE copies); CaptureReader reads the ITCH messages of the
// MoldUDP64 datagrams in a libpcap or pcapng capture. Both check every
// message's type and fixed length (the 23 message types of ITCH 5.0) and
// refuse what is wrong — an unknown type, a bad length, a frame that is
// not UDP/MoldUDP64, blocks that overrun their datagram — with an *Error
// naming it and its byte offset, counted by reason (Counts), then go on
// with the next message: one bad message loses nothing else.
//
// Source keeps the session's state: the stock directory (R) binds stock
// locates to symbols, the order book by reference number turns adds (A,
// F), executions (E, C), cancels (X), deletes (D) and replaces (U) into
// order ticks the engine's MBO books apply, trades (P, Q) into trade
// ticks, trading actions (H, h) into halts; event times are the session
// day's midnight in New York plus the message timestamps. A handler that
// joins mid-session meets order references it never saw: they are counted
// (UnknownOrder), not failures.
//
// Checked against Nasdaq's own data in the shared captures: the per-type
// message counts of the 2019-12-30 sample day excerpts and of 49 captures
// of the Nasdaq, BX and PSX feeds equal the published figures; fuzzed
// (FuzzFileReader, FuzzCaptureReader, FuzzSource): no input makes it
// panic.
package itch
