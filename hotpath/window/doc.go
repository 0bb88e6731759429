// Package window builds per-symbol sliding feature windows on an event-time
// grid, fills their labels at the label horizon, and defines the canonical
// binary encoding that window and label hashes are computed over.
//
// Windows are [k*step, k*step+length) with step = length*(1-overlap). A
// window closes when the watermark passes its end: the watermark of a
// symbol is the later of the dispatcher's in-band watermark and the
// symbol's newest event time less the allowed lateness, so closing depends
// on the input alone, never on wall-clock time or the number of partitions.
// A tick behind the watermark misses the windows that closed and is counted
// late. The book snapshot of a window (end mid, spread, imbalances) is taken
// just before the first tick at or after its end, so late ticks count in
// trade and volume figures of windows still open but never move a snapshot
// already taken. A label is filled with the mid prevailing at end+horizon.
//
// Everything here runs on the partition goroutine: nothing allocates per
// tick (state is allocated once per symbol), and floating-point expressions
// are written so no fused multiply-add can change a result across
// architectures. It imports only hotpath packages.
package window
