// Package synthetic is a seeded, reproducible market feed: many symbols with
// a zipf-like share of activity, market-by-price quotes over several book
// levels, trades, bursts of activity at a multiple of the base rate (for
// 10× spike tests), and an optional fraction of deliberately bad ticks so
// the reject path is always exercised. The same seed and config give the
// same ticks, byte for byte, on any machine.
//
// Event time is simulated: it starts at Config.Start and advances by
// exponential inter-arrival gaps at the current rate. Pacing against the
// wall clock (for live runs) is the caller's business.
package synthetic
