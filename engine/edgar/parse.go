package edgar

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"runtime/debug"
	"strconv"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/adapters/edgar/filings"
	"thunderline/adapters/edgar/source"
)

// A document's trip through a flow partition: parsed there, its result
// merged back in input order.

type job struct {
	inseq uint64
	doc   source.Doc
}

type result struct {
	job
	parsed *filings.Parsed
	err    error
}

// partitionKey is the CIK a document belongs to when the source or its
// first bytes say so (so one company's documents are parsed on one
// partition), else its input sequence. Results never depend on it: state
// is kept in input order after the merge.
func partitionKey(d *source.Doc, inseq uint64) uint64 {
	if d.CIK != 0 {
		return d.CIK
	}
	head := d.Body[:min(len(d.Body), 64<<10)]
	for _, m := range [...]string{"CENTRAL INDEX KEY:", "EntityCentralIndexKey", `"cik":`} {
		if i := bytes.Index(head, []byte(m)); i >= 0 {
			rest := head[i+len(m):]
			j := 0
			for j < len(rest) && j < 64 && (rest[j] < '0' || rest[j] > '9') {
				j++
			}
			k := j
			for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
				k++
			}
			if v, err := strconv.ParseUint(string(rest[j:k]), 10, 64); err == nil && v != 0 {
				return v
			}
		}
	}
	return inseq
}

// parseDoc parses one document; a panic in a parser is a bug, but a
// document must never take the engine down: it becomes a reject naming it.
func parseDoc(j job, score func(string) edgarrec.Sentiment) (res result) {
	res.job = j
	defer func() {
		if v := recover(); v != nil {
			res.parsed, res.err = nil, fmt.Errorf("parser panic (a bug; the document is rejected): %v\n%s", v, debug.Stack())
		}
	}()
	res.parsed, res.err = filings.ParseWith(j.doc.Name, filings.Kind(j.doc.Kind.String()), j.doc.Body, score)
	return res
}

func chain(c *[32]byte, h []byte) {
	s := sha256.New()
	s.Write(c[:])
	s.Write(h)
	s.Sum(c[:0])
}
