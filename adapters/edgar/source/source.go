package source

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Doc is one raw document as it arrived.
type Doc struct {
	// Name is a stable id: the slash-separated path relative to the
	// directory root, or the path relative to the base URL for HTTP
	// (for example "Archives/edgar/data/320193/0000320193-23-000106.txt").
	Name string
	Body []byte
	// Kind is sniffed from the content (see Sniff).
	Kind Kind
	// CIK is the filer's Central Index Key when known from the index entry,
	// the path or the URL, else 0.
	CIK uint64
	// Form is the form type when known from the index entry, else "".
	Form string
	// Filed is the filing date "YYYY-MM-DD" when known from the index
	// entry, else "".
	Filed string
}

// Source delivers raw documents one at a time. Next and Close must not be
// called concurrently with each other.
type Source interface {
	// Next returns the next document, io.EOF when there are no more. ctx
	// cancels a wait or a fetch.
	Next(ctx context.Context) (Doc, error)
	Close() error
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("source closed")

// Compile-time checks that both sources satisfy Source.
var (
	_ Source = (*DirSource)(nil)
	_ Source = (*HTTPSource)(nil)
)

// cikFromName returns the CIK a path names, or 0: the directory after
// "data" in an EDGAR archive path (edgar/data/<cik>/...), or a base name
// that starts with "CIK" and ten digits (CIK0001997711.json, the API's
// naming). Filer-agent prefixes of accession numbers are not CIKs of the
// filer and are not used.
func cikFromName(name string) uint64 {
	parts := strings.Split(name, "/")
	for i := 0; i+2 < len(parts); i++ { // data/<cik>/<file>: the cik must be a directory
		if parts[i] == "data" {
			if n, ok := parseCIK(parts[i+1]); ok {
				return n
			}
		}
	}
	base := parts[len(parts)-1]
	if len(base) >= 13 && strings.HasPrefix(base, "CIK") {
		if n, ok := parseCIK(base[3:13]); ok {
			return n
		}
	}
	return 0
}

// parseCIK reads 1 to 10 decimal digits as a non-zero CIK.
func parseCIK(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}
