// Package tickarchive stores raw ticks as Parquet files: zstd, sorted by
// symbol and then event time (row groups of one symbol's ticks, a slice of
// time each), columns named for the people who read them with pyarrow,
// polars or DuckDB. The Postgres shipper's tick lane writes one file per
// batch of journal records to the artifact store and lists it in the
// tick_files table (persist/postgres): raw ticks stay findable by tenant,
// symbol and time at about the journal's size instead of ~750 bytes a row.
//
// Write is deterministic: the same ticks give the same bytes (and so the
// same sha256 and artifact address), which is what makes a retried batch
// idempotent. Read checks what it reads and never panics on a file.
package tickarchive
