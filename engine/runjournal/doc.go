// Package runjournal is what every run of the engine writes first and
// reads back first in its journal (persist/journal): the record kinds and
// their names (kinds.go; the numbers are on disk), the meta record that
// carries the run's profile, and ErrVerify, the error of a replay whose
// re-derived outputs differ from the recorded ones; ArchiveTicks, a
// journal range's raw ticks into a Parquet archive file (persist/tickarchive).
//
// The records of one path (a market tick, a window, an EDGAR document) are
// encoded by that path's package (engine, engine/edgar) or by hotpath; this
// package only numbers them. It never runs anything, never writes a journal
// and never imports another engine package but engine/config.
package runjournal
