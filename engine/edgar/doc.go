// Package edgar runs the filings path: EDGAR documents from a source
// (a directory, an EDGAR-style site, or the raw documents an earlier run
// journaled) are parsed on flow partitions by CIK, merged back in input
// order, assembled into feature windows per company (Partial→Fill),
// routed through the filings router, journaled (raw bytes, EDGARDocs,
// windows, traces, lineage edges) and shipped to Postgres when the profile
// says so. Run runs it on its own (`thunderline edgar ingest`), StartBeside
// beside a market run, ReplayDirs and ReplayJournal for `thunderline
// replay`.
//
// Results depend on the input alone: never on the number of partitions, a
// goroutine's timing or the wall clock (a model scorer that does not
// answer in time falls back to the word list, and the window says so). It
// never touches the market data plane, never runs SQL itself (engine/ship
// and persist/postgres do) and never imports the engine package that
// assembles it.
package edgar
