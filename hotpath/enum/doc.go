// Package enum names the values of the hot path's small enumerations
// (label types, activations, routing policies, sequence modes, ...): the
// names profiles, JSON and metrics use, read and written through one table
// per enumeration instead of a pair of switch statements.
//
// It holds no enumeration itself and imports only the standard library.
// Lookups by value index a slice and never allocate; parsing scans the
// table and is for configuration, never per tick.
package enum
