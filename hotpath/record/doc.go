// Package record holds the fixed-size records that move on the hot path:
// MarketTick, Reject, the reason codes, and the symbol table that interns
// names to the dense ids ticks carry.
//
// Records hold no pointers. This package imports nothing of the project and
// nothing here allocates per tick.
package record
