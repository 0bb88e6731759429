package edgarrec

import (
	"testing"

	"thunderline/hotpath/codec/codectest"
)

// TestGoldenEncodings pins the canonical encodings byte for byte: the
// EDGARDoc hash, the document id and the provenance extension hashed with
// an EDGAR window are computed over them.
func TestGoldenEncodings(t *testing.T) {
	d := sampleDoc()
	codectest.Golden(t, "doc", AppendDoc(nil, &d))
	id := DocID(d.Hash())
	codectest.Golden(t, "doc_id", id[:])
	p := sampleProv()
	codectest.Golden(t, "prov", AppendProv(nil, &p))
	codectest.Golden(t, "doc_empty", AppendDoc(nil, &Doc{}))
	codectest.Golden(t, "prov_empty", AppendProv(nil, &Prov{}))
}
