// Package table is a fixed-capacity open-addressing hash table from uint64
// keys to values, for per-tick lookups on the hot path (order ids, sequence
// trackers) where a Go map would allocate and hash through an interface.
//
// It never grows: Put reports false when the table is full, and the caller
// counts that as a reject. Deletion shifts entries back instead of leaving
// tombstones, so probe lengths do not decay over a long session. It imports
// nothing of the project and never allocates after New.
package table
