// Package filings is the edgar_ingest pipeline of seed 004 §6 between a raw
// document and a FeatureWindow: parse (SGML submissions, XBRL and inline
// XBRL instances, companyfacts JSON) into EDGARDocs, split 10-K/10-Q items,
// compute text features of Item 1A and Item 7, compute fundamentals against
// the company's previous filing of the same form, and assemble one EDGAR
// FeatureWindow per filing, open until both its facts and its sections have
// arrived (seed §11 "Partial→Fill").
//
// A filing is identified by (CIK, form, period end). Its facts and its
// sections may come from one document (an inline XBRL 10-K, a full-text
// submission) or from two arriving at different times (an XBRL instance,
// then the HTML as filed). The first part to arrive opens the window; the
// missing part fills it: the window is emitted again with status filled,
// the same id and a new hash, and lineage edges from each document to the
// window.
//
// A document that is not well-formed XML is read as edgar.ParseInlineXBRL
// recovers it (HTML5 tokenizer, same bounds): its facts, sections and
// window come out as from a good document, Parsed.Recovered is set and
// Doc.Issues lists the first XML error, what the recovery changed and how
// many sections and facts it kept. A document whose recovered reading
// still gives no inline XBRL (the error names both readings), or no CIK,
// is rejected (TestUnusableRejected).
//
// Determinism: everything depends on the documents and their order only.
// The per-company state (previous filings, open windows) belongs to a
// Company, which one goroutine owns (the engine partitions companies by CIK).
// Numbers are exact decimals until the last step, where a ratio becomes a
// float64 through decimal's exact rounding, so results are the same on
// every machine.
package filings
