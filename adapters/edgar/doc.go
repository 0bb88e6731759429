// Package edgar parses SEC EDGAR files into Go values: the parse stage of the
// edgar_ingest pipeline (seed §6) and the raw material of EDGARDoc (seed §3).
//
// What it parses:
//
//   - ParseSGML: full-text submissions (the .txt with the <SEC-DOCUMENT> /
//     <SEC-HEADER> wrapper, 1990s to today): accession number, submission
//     type, period of report, filed-as-of and acceptance times, the parties
//     (FILER, SUBJECT COMPANY, FILED BY, ...) and every <DOCUMENT> with its
//     TYPE, SEQUENCE, FILENAME, DESCRIPTION and TEXT body. Uuencoded parts
//     (images, zip, xlsx) are kept as filed, flagged, and decoded on request
//     by Document.Decode.
//   - ParseXBRL: XBRL 2.1 instance documents; ParseInlineXBRL: inline XBRL
//     (ix:nonFraction, ix:nonNumeric, ix:exclude, ix:continuation, contexts
//     and units from ix:resources). Both give an Instance of Facts with the
//     concept QName, resolved Context (entity, period, explicit and typed
//     dimensions from segment and scenario) and Unit (measures, divide).
//     Facts that cannot be read exactly (bad number, unknown context or
//     unit, unsupported transformation format) are listed in
//     Instance.Issues with the reason and are not in Instance.Facts.
//   - ParseCompanyFacts and ParseSubmissions: the data.sec.gov companyfacts
//     and submissions JSON answers.
//   - Sections: the items of a 10-K or 10-Q HTML document as filed, with
//     MDA, RiskFactors, Find and Require on top.
//
// Index files (form.idx, company.idx, master.idx) are parsed by
// source.ParseIndex, beside the fetching that selects from them.
//
// The decimal rule: every number is an exact decimal
// (github.com/shopspring/decimal), read from its text and never through
// float64. Inline XBRL values are the displayed text after the format's
// transformation, multiplied by 10^scale exactly as written, and negated
// when sign="-". The decimals attribute is kept in Fact.Decimals as the
// stated accuracy and is never used to round the value. A numeric value
// with an exponent (allowed for xs:double items) is accepted only up to
// |exponent| 1000, and so is scale; beyond that the fact is an Issue.
//
// The section rule (see Sections): a heading is a short text block outside
// any table that starts "Item N[A-D]" and whose title does not start with a
// lower-case letter; "PART I..IV" blocks set the part. Tables of contents
// are skipped because headings inside tables are ignored and, when the same
// part and item appears more than once, the LAST occurrence is used. Text
// is tags stripped, entities decoded, white space collapsed, one line per
// block. A wanted item that is not found is reported (MissingError via
// Require, MDA, RiskFactors), never guessed.
//
// Lenient inline XBRL: a document that is not well-formed XML (a
// mismatched or stray end tag from a filing agent's tool) is not rejected
// whole. ParseInlineXBRL reads it again with the HTML5 tokenizer
// (golang.org/x/net/html) and rewrites it as well-formed XML — end tags
// that close no open element dropped, elements inside an end tag's match
// closed there, elements still open at the end closed, tags whose names are
// not XML names dropped with their text kept — then parses that under the
// same bounds as the first reading (MaxText, MaxNesting, each continuation
// chain walked once, MaxNumberLen). Instance.Recovery says so: the first
// XML error with its line and the counts of what was changed. Entities a
// doctype declares are expanded by neither reading (no billion laughs).
// When the rewritten document gives no inline XBRL either, the error names
// both readings.
//
// The package reads whole documents into memory (they are at most tens of
// MB); output is bounded by input size. It imports only the standard
// library, golang.org/x/net/html and the decimal library, and never does
// I/O of its own.
//
// Limits on outside bytes: a numeric value is at most MaxNumberLen (64)
// characters (ErrNumberTooLong: the fact is an Issue, the rest parses);
// inline XBRL nests at most IXOptions.MaxNesting (32) facts and
// continuations, holds at most IXOptions.MaxText (64 MiB) of fact text, and
// walks each continuation chain once (a continuation used twice, or a
// cycle, is an Issue).
package edgar

import _ "time/tzdata" // ACCEPTANCE-DATETIME is America/New_York wall time; embed the zone
