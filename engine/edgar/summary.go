package edgar

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"thunderline/engine/report"
	"thunderline/engine/ship"
)

// Reject is a document that could not be read.
type Reject struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// Summary is the outcome of an EDGAR run.
type Summary struct {
	Inputs     []string          `json:"inputs,omitempty"`
	Partitions int               `json:"partitions"`
	Docs       uint64            `json:"docs"`
	Bytes      uint64            `json:"bytes"`
	ByKind     map[string]uint64 `json:"by_kind"`
	MetaDocs   uint64            `json:"meta_docs"` // indexes and submission lists: read, no window
	Rejected   uint64            `json:"rejected"`
	Rejects    []Reject          `json:"rejects,omitempty"` // the first 100
	Issues     uint64            `json:"issues"`            // facts or sections a document could not give, listed in its EDGARDoc
	Filings    uint64            `json:"filings"`           // distinct (CIK, form, period end)
	Parts      uint64            `json:"parts"`
	Duplicates uint64            `json:"duplicate_parts"` // parts a filing already had
	Windows    uint64            `json:"windows"`         // window records emitted (first emissions and fills)
	Fills      uint64            `json:"fills"`           // open → filled
	OpenAtEnd  uint64            `json:"open_at_end"`     // routed as open at the end of the input
	// ScorerFallbacks counts texts the model scorer did not answer in time
	// (or failed): the word list scored them.
	ScorerFallbacks uint64            `json:"scorer_fallbacks"`
	Traces          uint64            `json:"traces"`
	Actions         map[string]uint64 `json:"actions,omitempty"`
	// Digests chain the hashes of docs, windows and traces in emission
	// order: equal digests, equal outputs.
	DocDigest    string         `json:"doc_digest"`
	WindowDigest string         `json:"window_digest"`
	TraceDigest  string         `json:"trace_digest"`
	Elapsed      report.Seconds `json:"elapsed_s"`
	DocsPerSec   float64        `json:"docs_per_s"`
	MBPerSec     float64        `json:"mb_per_s"`
	Journal      *Journal       `json:"journal,omitempty"`
	Postgres     *ship.Summary  `json:"postgres,omitempty"`
	Verify       *Verified      `json:"verify,omitempty"`
}

// Journal describes the journal an EDGAR run wrote.
type Journal struct {
	Dir     string `json:"dir"`
	Records uint64 `json:"records"`
}

// Verified is the result of replaying the same input twice.
type Verified struct {
	Partitions []int `json:"partitions"`
	Equal      bool  `json:"equal"`
}

// Live is a running EDGAR path seen from outside: counters and the
// depth of each flow partition's queue.
type Live struct {
	r atomic.Pointer[run]
}

// Counts are the live counters of an EDGAR run (Live, Options.Progress).
type Counts struct {
	Docs, Bytes, Windows, Traces, Rejected, Fallbacks uint64
	Elapsed                                           time.Duration
}

// Counts returns the counters; ok is false before the run starts.
func (l *Live) Counts() (c Counts, ok bool) {
	r := l.r.Load()
	if r == nil {
		return c, false
	}
	return Counts{Docs: r.docs.Load(), Bytes: r.bytes.Load(), Windows: r.windows.Load(), Traces: r.traces.Load(),
		Rejected: r.rejected.Load(), Fallbacks: r.fallbacks.Load(), Elapsed: time.Since(r.start)}, true
}

// Queue returns the documents waiting for flow partition i and its
// capacity.
func (l *Live) Queue(i int) (n, capacity int) {
	r := l.r.Load()
	if r == nil || i >= len(r.ins) {
		return 0, 0
	}
	return len(r.ins[i]), cap(r.ins[i])
}

// Text prints the summary for people.
func (s *Summary) Text(w io.Writer) {
	fmt.Fprintf(w, "edgar: %d documents (%.1f MB) in %.2fs on %d partitions: %.1f docs/s, %.1f MB/s\n", s.Docs, float64(s.Bytes)/1e6,
		time.Duration(s.Elapsed).Seconds(), s.Partitions, s.DocsPerSec, s.MBPerSec)
	fmt.Fprint(w, "  by kind:")
	for _, k := range slices.Sorted(maps.Keys(s.ByKind)) {
		fmt.Fprintf(w, " %s %d", k, s.ByKind[k])
	}
	fmt.Fprintf(w, "\n  meta documents %d, rejected %d, issues %d\n", s.MetaDocs, s.Rejected, s.Issues)
	for _, r := range s.Rejects {
		fmt.Fprintf(w, "    rejected %s (%s): %s\n", r.Name, r.Kind, r.Reason)
	}
	fmt.Fprintf(w, "  filings %d (parts %d, duplicate parts %d)\n", s.Filings, s.Parts, s.Duplicates)
	fmt.Fprintf(w, "  windows %d (fills %d, open at the end %d), traces %d", s.Windows, s.Fills, s.OpenAtEnd, s.Traces)
	if len(s.Actions) > 0 {
		fmt.Fprint(w, ":")
		for _, a := range slices.Sorted(maps.Keys(s.Actions)) {
			fmt.Fprintf(w, " %s %d", a, s.Actions[a])
		}
	}
	fmt.Fprintf(w, "\n  doc_digest    %s\n  window_digest %s\n  trace_digest  %s\n", s.DocDigest, s.WindowDigest, s.TraceDigest)
	if s.Journal != nil {
		fmt.Fprintf(w, "  journal %s (%d records)\n", s.Journal.Dir, s.Journal.Records)
	}
	if s.Postgres != nil {
		fmt.Fprintf(w, "  postgres: %d rows in %d batches, caught up %v\n", s.Postgres.Rows, s.Postgres.Batches, s.Postgres.CaughtUp)
	}
	if s.Verify != nil {
		fmt.Fprintf(w, "  verify: partitions %v, digests equal: %v\n", s.Verify.Partitions, s.Verify.Equal)
	}
}
