// Package remoteexpert runs an expert out of process: Client is an
// expert.Expert that asks a model over a local (unix domain) socket with a
// deadline, and Server serves any expert.Expert over the same protocol, so a
// model written in Go can run in its own process. testdata/echo_server.py is
// a Python server (standard library only) that the tests run as a real
// subprocess.
//
// # Misses
//
// A call that gets no valid answer before its deadline abstains (the neutral
// output of expert.Output.SetAbstain) and is counted by Cause: timeout,
// conn (refused, reset, EOF), bad_reply, handshake, backoff, bad_input,
// closed. A timeout, I/O error or bad reply closes the connection, so a late
// reply is never read as the answer to a later request; the next call after
// a backoff (BackoffMin, doubling per consecutive miss up to BackoffMax)
// dials again and handshakes, all within that call's deadline. No call
// blocks longer than its deadline plus the time to close a socket.
//
// # Protocol, version 1
//
// One connection carries one request at a time. All integers and floats
// are little-endian; floats are IEEE 754. Every message is a frame:
//
//	u32 body length (at most MaxFrame = 1 MiB), then the body
//
// and every body starts with u8 version (1) and u8 type.
//
//	Hello (client → server, once per connection), 4 bytes:
//	  0  u8  version = 1
//	  1  u8  type = 1
//	  2  u16 reserved, 0
//
//	HelloReply (server → client), 12 + L bytes:
//	  0  u8  version = 1
//	  1  u8  type = 2
//	  2  u16 L, name length (at most 1024)
//	  4  u32 in_dim   (0: reads only the features)
//	  8  u32 out_dim  (0: an action head)
//	  12 L bytes: the expert's name, UTF-8
//
//	Eval (client → server), 28 + 8·nf + 4·nd bytes:
//	  0  u8  version = 1
//	  1  u8  type = 3
//	  2  u16 reserved, 0
//	  4  u32 request id (the client counts up from 1)
//	  8  u32 symbol (the window's interned key)
//	  12 i64 end (the window's end, event time, ns)
//	  20 u32 nf, number of features (window.NumFeatures; indexed by window.Feature)
//	  24 u32 nd, embedding length (= in_dim)
//	  28 nf × f64 features, then nd × f32 embedding
//
//	Reply (server → client), 28 + 4·nh bytes:
//	  0  u8  version = 1
//	  1  u8  type = 4
//	  2  u8  flags: bit 0 abstain (the other fields are then ignored)
//	  3  u8  reserved, 0
//	  4  u32 request id, echoed
//	  8  f32 confidence, in [0, 1]
//	  12 3 × f32 scores: buy, sell, hold (a head: a distribution summing to 1 ± 1e-3)
//	  24 u32 nh, hidden length (= out_dim; 0 for a head)
//	  28 nh × f32 hidden, finite
//
// The client checks, at every connect, that the server's in_dim and
// out_dim equal its Config's; and, on every reply, the version, type, id,
// length and value ranges. The server closes a connection on a malformed
// frame; a panic in its expert is answered with an abstention.
//
// # Allocation
//
// The client's request and reply buffers are preallocated. SetDeadline does
// not allocate (the runtime's poll descriptor holds the timers), nor do
// Write and Read on a connected socket: TestClientAllocs measures 0
// allocations per call against both servers. Dialing, the handshake and
// the error paths allocate. A round trip costs about 7.5 µs against the Go
// server and 135 µs against the Python one (BenchmarkRemoteRoundTrip).
package remoteexpert
