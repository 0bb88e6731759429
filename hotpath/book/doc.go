// Package book maintains per-symbol order books from market-by-price quotes
// (MBP-1, MBP-10, TBBO: a level set directly) and market-by-order events
// (MBO: orders aggregated into price levels, all depth kept so the top N is
// right after the best level empties), and exposes the top N levels.
//
// Memory is allocated once per symbol, the first time it is seen; applying a
// tick never allocates. Price levels are kept sorted with the best price at
// the end of the slice, so the usual update near the touch moves few
// elements. It imports only hotpath packages.
package book
