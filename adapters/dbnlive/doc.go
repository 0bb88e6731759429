// Package dbnlive speaks Databento's live gateway protocol (the "Raw API"):
// a line-based handshake over TCP — the gateway's greeting
// (lsg_version=…), its CRAM challenge (cram=…), the client's answer
// auth=<sha256(cram|key) hex>-<the key's last 5 characters>|dataset=…|
// encoding=dbn|ts_out=0, the gateway's success=1|session_id=… or
// success=0|error=…, the client's subscription lines (schema=…|
// stype_in=…|symbols=…[|start=ns]) and start_session — then a DBN stream
// (metadata, then records) that adapters/dbn decodes.
//
// Client dials and hands the stream over; Server is a gateway for tests and
// feed-sim that serves real DBN captures, honours start= (the replay point a
// reconnecting client asks for) and can cut a connection after N records.
//
// A gateway that lies — no greeting, no challenge, a refusal, an overlong
// or unterminated line, garbage where the DBN stream should be — is an
// error naming what was wrong, never a panic. The API key never appears in
// an error or a log: only its last five characters (its bucket id), which
// the protocol sends in clear anyway.
package dbnlive
