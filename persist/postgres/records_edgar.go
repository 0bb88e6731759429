package postgres

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/hotpath/window"
)

// The rows of the filings path's records: EDGAR documents, the documents
// the engine could not read, and the provenance of EDGAR windows.

// edgarProvJSON is the provenance of an EDGAR window: its extension
// (accession, documents, facts used, sections, sentiment, embedding).
func edgarProvJSON(d *window.DecodedWindow) ([]byte, error) {
	p, err := edgarrec.DecodeProv(d.Ext)
	if err != nil {
		return nil, err
	}
	fw := &d.Window
	var w jsonw
	w.open('{')
	w.key("recipe").str(fw.Recipe.String())
	w.key("recipe_version").u64(uint64(fw.Recipe))
	w.key("first_inseq").u64(fw.FirstInSeq)
	w.key("last_inseq").u64(fw.LastInSeq)
	w.key("cik").u64(p.CIK)
	w.key("form").str(p.Form)
	w.key("accession").str(p.Accession)
	w.key("period_start_ns").i64(p.PeriodStart)
	w.key("period_end_ns").i64(p.PeriodEnd)
	w.key("filing_time_ns").i64(p.FilingTime)
	w.key("time_basis").str(p.TimeBasis)
	w.key("prev_accession").str(p.PrevAccession)
	w.key("docs").strs(p.Docs)
	w.key("facts").open('[')
	for _, f := range p.Facts {
		w.elem().open('{')
		w.key("role").str(f.Role)
		w.key("concept").str(f.Concept)
		w.key("value").str(f.Value)
		w.key("unit").str(f.Unit)
		w.key("period").str(f.Period)
		w.close('}')
	}
	w.close(']')
	w.key("sections").open('[')
	for _, s := range p.Sections {
		w.elem().open('{')
		w.key("item").str(s.Item)
		w.key("chars").u64(uint64(s.Chars))
		w.key("words").u64(uint64(s.Words))
		w.close('}')
	}
	w.close(']')
	s := p.Sentiment
	w.key("sentiment").open('{')
	for _, kv := range [...]struct {
		k string
		v uint32
	}{{"words", s.Words}, {"positive", s.Positive}, {"negative", s.Negative}, {"uncertainty", s.Uncertainty},
		{"litigious", s.Litigious}, {"constraining", s.Constraining}} {
		w.key(kv.k).u64(uint64(kv.v))
	}
	w.key("fell_back").bool(s.FellBack)
	w.close('}')
	w.key("embedding").f32s(p.Embedding)
	w.key("missing").strs(p.Missing)
	w.close('}')
	return w.done(), nil
}

// edgarDocRow is a raw_edgar_docs row: sections as {item: text} (with
// part and title beside), facts as a list, as the seed's EDGARDoc.
func edgarDocRow(_ *batch, r *rec) ([]any, error) {
	d, err := edgarrec.DecodeDoc(r.p)
	if err != nil {
		return nil, err
	}
	for _, t := range []string{d.Name, d.Source, d.Form, d.Accession, d.Company} {
		if err := checkText("edgar document field", t); err != nil {
			return nil, err
		}
	}
	hash := sha256.Sum256(r.p)
	var w jsonw
	w.open('{')
	for _, s := range d.Sections {
		k := s.Item
		if s.Part != "" {
			k = s.Part + "/" + s.Item
		}
		w.key(k).open('{')
		w.key("title").str(s.Title)
		w.key("text").str(s.Text)
		w.close('}')
	}
	w.close('}')
	sections := w.done()
	w.open('[')
	for _, f := range d.Facts {
		w.elem().open('{')
		w.key("fact").str(f.Concept)
		w.key("value").str(f.Value)
		w.key("context").open('{')
		w.key("unit").str(f.Unit)
		w.key("decimals").str(f.Decimals)
		w.key("start").str(f.Start)
		w.key("end").str(f.End)
		w.key("dimensions").open('{')
		for _, dm := range f.Dims {
			w.key(dm.Axis).str(dm.Member)
		}
		w.close('}')
		w.close('}')
		w.close('}')
	}
	w.close(']')
	facts := w.done()
	w.strs(d.Issues)
	issues := w.done()
	var filed, period any
	if d.FilingTime != 0 {
		filed = nsTime(d.FilingTime)
	}
	if d.PeriodEnd != 0 {
		period = nsTime(d.PeriodEnd)
	}
	return []any{edgarrec.DocID(hash), r.tenant, strconv.FormatUint(d.CIK, 10), d.Form, filed, period, sections, facts, hash[:],
		d.Name, d.Source, d.Accession, d.Company, d.Raw[:], int64(d.Size), issues, r.jid, int64(r.off)}, nil
}

// edgarRejectRow is a rejects row for a document the engine could not read.
func edgarRejectRow(_ *batch, r *rec) ([]any, error) {
	p := r.p
	if len(p) < 8 {
		return nil, fmt.Errorf("edgar_reject record of %d bytes", len(p))
	}
	inseq := binary.LittleEndian.Uint64(p)
	p = p[8:]
	var f [3]string
	for i := range f {
		if len(p) < 4 {
			return nil, fmt.Errorf("edgar_reject record: field %d cut", i)
		}
		n := binary.LittleEndian.Uint32(p)
		if uint64(len(p)-4) < uint64(n) {
			return nil, fmt.Errorf("edgar_reject record: field %d of %d bytes, %d left", i, n, len(p)-4)
		}
		f[i] = string(p[4 : 4+n])
		p = p[4+n:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("edgar_reject record: %d trailing bytes", len(p))
	}
	var w jsonw
	w.open('{')
	w.key("inseq").u64(inseq)
	w.key("name").str(f[0])
	w.key("kind").str(f[1])
	w.close('}')
	reason := f[2]
	if !validText(reason) {
		reason = strings.ToValidUTF8(strings.ReplaceAll(reason, "\x00", ""), "?")
	}
	return []any{r.tenant, r.jid, int64(r.off), "edgar", int32(recEdgarReject), reason, w.done(), nil}, nil
}
