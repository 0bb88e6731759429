//go:build race

package journal

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// code that recycles through a pool (zstd's decoder) allocates under it.
const raceEnabled = true
