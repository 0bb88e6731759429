// Package engine assembles and runs the market data plane of one run from
// a profile: a source of ticks (the synthetic feed, DBN files, ITCH files,
// a run's journal, or a live feed: MoldUDP64 of one or more channels, with
// or without eBPF steering, SoupBinTCP, Databento's gateway) → the dispatcher and partition loops (normalize, book, windows,
// features) → the decision stage (router, experts, risk) → the sink that
// journals everything (the write-ahead log) or verifies it against a
// journal (replay --verify). Around that data plane it keeps partition
// supervision (restart from the journal), in-band controls (router
// reloads, the backpressure ladder), Prometheus metrics and the actor tree
// (actors/tree); RunLive runs `thunderline run` (with the Postgres shipper
// and the filings path beside it when the profile says so), Replay runs
// `thunderline replay`.
//
// The other concerns have their own packages, which this one assembles:
// engine/edgar (the filings path), engine/ship (Postgres), engine/routermodel
// (router models), engine/runjournal (the journal's record kinds and meta
// record); engine/admin, engine/federation and engine/export build on it or
// beside it, and cmd and bench assemble them all.
//
// It never decides anything from the wall clock inside the data plane:
// every control that changes outputs is applied in band at an input
// position and journaled, so a replay makes the same windows, traces and
// digests. It never runs SQL, never serves HTTP and never imports
// engine/admin, engine/federation or engine/export.
package engine
