// Package normalize validates ticks before they touch a book: crossed and
// locked quotes, zero sizes, undefined or out-of-band prices, unknown
// symbols and bad action codes are rejected with a reason; sequence gaps and
// regressions per (venue, symbol) are reported as anomalies while the tick
// goes on. It never allocates per tick and imports only hotpath packages.
package normalize
