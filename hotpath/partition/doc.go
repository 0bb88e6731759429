// Package partition is the per-shard loop of the data plane: it pops ticks
// from its SPSC ring and runs normalize → book → window → features on each,
// then hands windows, label fills and rejects to the output ring (MPSC, fan-in
// to the journal writer). It also holds the dispatcher that assigns ingest
// sequence numbers, derives the in-band watermark and routes ticks to
// partitions by symbol.
//
// Nothing here allocates per tick; a full output ring is backpressure (the
// partition waits, and counts the wait), never a drop. It imports only
// hotpath packages.
package partition
