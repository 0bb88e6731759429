// Package link owns Thunderlink, the engine's in-process publish/subscribe
// topics and their external publication as a Server-Sent Events stream for
// dashboards (seed 004 §2; topics such as feature_windows:market,
// feature_windows:edgar, decisions, risk and fl.* federation events).
//
// A Bus carries Events: a topic, a bus-wide sequence number, the publish time
// and a JSON payload that the publisher built off the hot path. Subscribers
// name exact topics or prefix patterns ("fl.*", "*"). Each topic keeps its
// last N events (Recent) so that a dashboard that connects late, or
// reconnects with Last-Event-ID, sees recent decisions at once. SSEHandler
// serves a Bus over HTTP.
//
// # Publish never blocks
//
// Publish reads the clock, takes one short mutex, stores the event in the topic's
// ring and offers it to each matching subscriber with a non-blocking channel
// send. It never waits for a subscriber, never parks the publisher on a
// channel and never allocates once a topic exists (tests prove it with
// testing.AllocsPerRun; link_bench_test.go measures it against a plain
// buffered channel send). The mutex is held only for that bounded work; the
// only other holders are Subscribe, Close, Recent and Stats, which are
// equally short (Stats copies the per-topic counters).
//
// # Cut-off policy
//
// Every subscriber has a bounded queue (Options.QueueLen, default 1024). A
// subscriber whose queue is full when an event arrives is cut off at once:
// it is unsubscribed, the event that did not fit is counted as dropped, its
// channel is closed after the events already queued, and Err reports
// ErrSlowSubscriber. Nothing waits and nothing is dropped silently; the other
// subscribers are unaffected. A subscription also ends when it is closed by
// its owner (ErrClosed) or when the bus closes (ErrBusClosed). Stats counts
// cut-offs by reason. A consumer that was cut off resubscribes and catches up
// from Recent (the SSE stream tells the client with a final "cutoff" event,
// and the browser's reconnect with Last-Event-ID replays what it missed while
// the topic rings still hold it).
//
// # Ordering
//
// Sequence numbers are assigned under the bus mutex, so every subscriber
// receives its events in increasing Seq order, with no gaps other than events
// on topics it does not match, until it is cut off. One publisher's events
// keep its publish order.
//
// What it must never do: block or slow a publisher on a subscriber, keep an
// unbounded queue, start goroutines of its own (the SSE handler runs on the
// HTTP server's request goroutine), or import anything of the project but
// thunderline/hotpath.
package link
