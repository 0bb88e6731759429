package edgar

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"

	"thunderline/adapters/edgar/edgarrec"
	"thunderline/adapters/edgar/filings"
	"thunderline/engine/runjournal"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/window"
)

// What happens on the merge goroutine, in input order: each document's
// result is journaled, its filing parts assembled into windows per
// company, the windows routed, and the traces journaled with their lineage.

// merge takes one document's result, in input order.
func (r *run) merge(partIdx int, res result) {
	d := &res.doc
	r.docs.Add(1)
	r.bytes.Add(uint64(len(d.Body)))
	r.sum.ByKind[d.Kind.String()]++
	r.journalRaw(res.inseq, d)
	if res.err != nil {
		r.rejected.Add(1)
		rej := Reject{Name: d.Name, Kind: d.Kind.String(), Reason: res.err.Error()}
		if len(r.sum.Rejects) < 100 {
			r.sum.Rejects = append(r.sum.Rejects, rej)
		}
		r.log.Warn("edgar: document rejected", "name", d.Name, "kind", rej.Kind, "err", res.err)
		r.buf = appendReject(r.buf[:0], res.inseq, &rej)
		r.append(runjournal.RecEdgarReject, r.buf)
		if r.o.OnReject != nil {
			r.o.OnReject(partIdx, rej)
		}
		return
	}
	p := res.parsed
	if p.Meta {
		r.sum.MetaDocs++
		return
	}
	r.sum.Issues += uint64(len(p.Doc.Issues))
	enc := r.docRecord(&p.Doc)
	h := sha256.Sum256(enc)
	chain(&r.docChain, h[:])
	r.append(runjournal.RecEdgarDoc, enc)
	docID := edgarrec.DocID(h)
	for i := range p.Parts {
		part := &p.Parts[i]
		r.sum.Parts++
		r.filings[part.Key] = true
		c := r.companies[part.Key.CIK]
		if c == nil {
			c = filings.NewCompany(part.Key.CIK, filings.Options{Tenant: r.tenant})
			r.companies[part.Key.CIK] = c
		}
		w := c.Add(part, d.Name, res.inseq)
		if w == nil {
			r.sum.Duplicates++
			continue
		}
		r.emit(w, docID)
	}
	if r.stage != nil {
		r.stage.Drain()
	}
}

func (r *run) emit(w *filings.Window, docID [16]byte) {
	fw := &w.W
	id, err := r.syms.Intern(w.Key)
	if err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("edgar: key %s: %w", w.Key, err)
		}
		return
	}
	fw.Symbol = id
	r.windows.Add(1)
	chain(&r.winChain, fw.Hash[:])
	if w.Fill {
		r.sum.Fills++
	}
	r.buf = window.AppendWindowRecordExt(r.buf[:0], fw, r.tenant, w.Key, w.Ext)
	r.append(runjournal.RecWindow, r.buf)
	e := decide.Edge{From: docID, To: fw.ID, Type: decide.EdgeDocWindow, At: fw.End}
	if w.Fill {
		e.Type = decide.EdgeDocFill
	}
	r.buf = decide.AppendEdge(r.buf[:0], &e)
	r.append(runjournal.RecEdge, r.buf)
	if r.o.OnWindow != nil {
		r.o.OnWindow(w)
	}
	if r.stage != nil && w.Ready() {
		r.stage.OnWindow(fw)
	}
}

// finish routes the windows still open at the end of the input, as they
// are, in the order they were first emitted.
func (r *run) finish() {
	var open []filings.Window
	ciks := make([]uint64, 0, len(r.companies))
	for cik := range r.companies {
		ciks = append(ciks, cik)
	}
	slices.Sort(ciks)
	for _, cik := range ciks {
		open = append(open, r.companies[cik].Open()...)
	}
	slices.SortStableFunc(open, func(a, b filings.Window) int { return cmp.Compare(a.W.FirstInSeq, b.W.FirstInSeq) })
	r.sum.OpenAtEnd = uint64(len(open))
	if r.stage == nil {
		return
	}
	for i := range open {
		fw := &open[i].W
		if id, err := r.syms.Intern(open[i].Key); err == nil {
			fw.Symbol = id
			r.stage.OnWindow(fw)
		}
	}
	r.stage.Drain()
}

func (r *run) onTrace(t *decide.DecisionTrace) {
	r.traces.Add(1)
	chain(&r.trChain, t.Hash[:])
	r.sum.Actions[decide.ActionName(t.Action)]++
	if r.o.OnTrace != nil {
		r.o.OnTrace(t, r.syms.Name(t.Symbol))
	}
	if r.jour == nil {
		return
	}
	r.buf = decide.AppendTraceRecord(r.buf[:0], t, r.tenant, r.syms.Name(t.Symbol))
	r.append(runjournal.RecTrace, r.buf)
	e := decide.Edge{From: t.WindowID, To: t.ID, Type: decide.EdgeWindowTrace, At: t.End}
	r.buf = decide.AppendEdge(r.buf[:0], &e)
	r.append(runjournal.RecEdge, r.buf)
	for l := 0; l < int(t.Layers) && l < len(r.model.Layers); l++ {
		ids := r.model.Layers[l].IDs
		for k := 0; k < int(t.NSel[l]); k++ {
			if a := &t.Actions[l][k]; int(a.Expert) < len(ids) {
				e = decide.Edge{From: t.ID, To: ids[a.Expert], Type: decide.EdgeTraceExpert, At: t.End}
				r.buf = decide.AppendEdge(r.buf[:0], &e)
				r.append(runjournal.RecEdge, r.buf)
			}
		}
	}
}
