// Package tickarchive stores raw ticks as Parquet files: zstd, sorted by
// symbol and then event time (declared in the file), a row group per
// symbol (at most RowGroupRows), columns named for the people who read
// them with pyarrow, polars or DuckDB (Row; prices int64 in 1e-9 units).
// The Postgres shipper's tick lane writes one file per batch of journal
// records to the artifact store and lists it in the tick_files table
// (persist/postgres): raw ticks stay findable by tenant, symbol and time at
// under half the journal's size instead of ~750 bytes a row.
//
// A writer keeps one Writer and, per file:
//
//	w.Reset()
//	w.Add(tenant, symbolName, journalOffset, &tick) // per tick record; no allocation
//	f, a, err := w.Put(ctx, store)                  // the file, into the artifact store
//
// Write is deterministic: the same ticks, in any order, give the same
// bytes (and so the same sha256 and artifact address), which is what makes
// a retried batch idempotent. Read and Select check what they read and
// never panic on a file (a library panic on hostile bytes is recovered
// into an error); the file's sha256, checked by the artifact store, is
// what guarantees its bytes. The package never reads the journal (engine/
// runjournal.ArchiveTicks does) and never talks to Postgres.
package tickarchive
