//go:build race

package text

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts of the pooled functions are only asserted without it.
const raceEnabled = true
