// Package edgarrec holds the journal forms of SEC EDGAR material: Doc, the
// EDGARDoc of seed 004 §3 (what a filing said, as parsed), and Prov, the
// provenance extension of an EDGAR FeatureWindow (the accession, the facts
// and documents it was computed from, its text embedding).
//
// Both are canonical binary encodings — fixed field order, little-endian
// fixed-width numbers, length-prefixed strings, floats as IEEE-754 bits —
// so their sha256 is reproducible; both decoders never panic on bad bytes and
// wrap ErrCorrupt. EDGAR work happens per document, off the per-tick path:
// these types allocate freely, which is why the package lives with the EDGAR
// adapters and not under hotpath. It imports only hotpath (hotpath/codec, the
// one reader and writer of the canonical encodings) and nothing else of the
// project, so the engine, the EDGAR adapters and the Postgres shipper can all
// use it; it must never import the rest of adapters/edgar.
package edgarrec
