// Package codec is the one reader and writer of the project's canonical
// binary encodings: fixed field order, fixed-width little-endian numbers,
// floats as their IEEE-754 bits, length-prefixed bytes. Window, label,
// trace, shadow, EDGARDoc and provenance records are written with an
// Appender and read back with a Reader; their hashes are computed over
// these bytes, so the primitives here never change what they write.
//
// An Appender only appends: it never allocates when its slice has room.
// A Reader checks every length against the bytes left (negative, oversized
// and overflowing lengths and counts included) and keeps the first error,
// wrapping the sentinel its caller gave: a decoder built on it never panics
// on bad bytes and reads zero values once it has failed.
//
// The package imports only the standard library and knows no record: the
// layouts (and their version bytes) belong to the packages that own them.
package codec
