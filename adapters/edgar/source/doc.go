// Package source is where SEC EDGAR documents come from: it delivers raw
// documents (bytes, a Kind sniffed from the content, and the CIK, form type
// and filing date when an index entry or the path tells them) to the engine
// through one interface, Source, with two implementations:
//
//   - Dir: every regular file under a directory, in lexical order of the
//     slash-separated relative path, the same on every machine. Hidden
//     entries, files over MaxBytes, special files and symbolic links to
//     directories are skipped and listed by Skipped, never silently.
//   - NewHTTP: an EDGAR-style site (the www.sec.gov layout). It reads the
//     configured index files (daily or full form.idx, company.idx,
//     master.idx), keeps the entries matching Forms and CIKs, fetches each
//     filing archive in index order (Archives/<File Name>), then, if asked,
//     the companyfacts answer of each selected CIK.
//
// The package parses only what selection needs: the index files
// (ParseIndex, which package filings also uses to check an index document)
// and the first bytes for Sniff. Parsing documents is package edgar's job. It
// imports only the standard library and never uses package-level mutable
// state.
//
// # Fair access
//
// The SEC allows at most 10 requests per second per user and asks every
// client to declare itself with a User-Agent naming the company and a
// contact e-mail address. HTTPConfig therefore requires a UserAgent with an
// e-mail address, sends it on every request, and passes every request —
// retries and redirects included — through one token bucket (RatePerSec,
// default 10; Burst, default 1). One resend is out of its reach: Go's
// transport itself resends a GET once when a kept-alive connection turns
// out to be closed before any answer. The limiter belongs to one
// HTTPSource: two sources against the same site share nothing, so run one
// at a time or split the rate between them. Network errors, 408, 429 and
// 5xx answers are retried up to Retries times with exponential backoff
// (cenkalti/backoff, each delay within ±50% of an interval doubling from
// BackoffMin to BackoffMax); a
// Retry-After on a 429 or 503 is honoured instead (up to one day). Other
// statuses (403, 404, ...) and answers over MaxBytes are not retried. A URL
// given up on is listed by Failures with its last status, and the run
// continues with the next one: bad input never stops the rest.
//
// # State file and delivery semantics
//
// HTTPConfig.StateFile is an append-only log, one JSON line per completed
// URL: {"name", "url", "sha256", "bytes", "fetched"}, where name is the path
// relative to the base URL (Doc.Name) and is the key, so a mirror with the
// same layout shares progress. Each line is fsynced before the call that
// wrote it returns. NewHTTP reads the log; a torn (incomplete or
// unreadable) last line, the trace of a crash mid-append, is ignored and cut
// off; an unreadable line before the last is corruption and an error. One
// source at a time may use a state file.
//
//   - An index is recorded as soon as its fetch completes, and a copy of it
//     is kept in StateFile+".indexes/<sha256>". A recorded index is never
//     fetched again: later runs read the copy (fetching again only if the
//     copy is missing or does not match its hash). Its entries are then
//     selected with the current Forms and CIKs.
//   - A document (filing or companyfacts) is recorded when the caller has
//     taken it: its line is written at the start of the next Next call, or
//     by Close. A recorded document is never fetched or yielded again.
//
// So delivery is at least once at the caller: a document whose Next
// returned but that was not followed by another Next or Close before the
// process died is fetched and yielded again by the next run; every other
// document is yielded exactly once over all runs. The engine must have
// made a document durable (journalled it) before it calls Next again or
// Close, and it should not call Close for a document it did not take.
// Failed URLs are not recorded and are tried again by the next run.
package source
