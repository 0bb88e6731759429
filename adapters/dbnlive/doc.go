// Package dbnlive speaks Databento's live gateway protocol (the "Raw API"),
// both ends of it.
//
// The protocol: over TCP, the gateway greets (lsg_version=…) and sends a
// challenge (cram=…); the client answers
// auth=<sha256(cram|key) hex>-<the key's last 5 characters>|dataset=…|
// encoding=dbn|compression=none|ts_out=0|client=…[|heartbeat_interval_s=N];
// the gateway replies success=1|session_id=… or success=0|error=…; the
// client sends its subscription (schema=…|stype_in=…|symbols=…|snapshot=0|
// is_last=0|1[|start=ns], 500 symbols a line) and start_session; then the
// gateway streams DBN — metadata, then records — that adapters/dbn decodes
// (this package has no DBN decoder of its own).
//
// What it owns:
//   - Dial: the client's handshake, returning the session's byte stream,
//     with an idle timeout (heartbeat interval + 5 s, as Databento's
//     clients) so a silent gateway breaks the session instead of hanging it.
//   - Feed: ticks from a session through dbn.Source, resumed after a broken
//     link without losing or repeating a tick (the rule is on Feed: replay
//     from the last tick's ts_event minus an overlap, drop the ticks the
//     replay repeats, counted by a bounded history and checked one by one).
//   - Server: a gateway for tests and feed-sim that serves a real DBN
//     capture to clients that know its key, honours start= as Databento's
//     intraday replay does (ts_event >= start), and carries out scripted
//     faults (reset after N records, fall silent, refuse).
//
// What it never does: panic on what a gateway or a client sends (a bad
// greeting, a missing challenge, a refusal, an overlong or cut line, bytes
// that are not DBN are each an error naming what was wrong, counted —
// FuzzHandshake, FuzzControlLine, FuzzServerSubscribe); put the API key in
// an error or a log (only its last five characters, which the protocol
// sends in clear anyway); retry a refusal or a stream that is not DBN; or
// keep a backoff of its own (cenkalti/backoff/v5).
package dbnlive
