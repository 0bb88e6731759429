package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"thunderline/engine/runjournal"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

// Mismatch is one window or label whose re-derived hash differs from the
// recorded one, or that only one side has.
type Mismatch struct {
	What     string `json:"what"` // window | label
	ID       string `json:"id"`
	Symbol   string `json:"symbol,omitempty"`
	Start    int64  `json:"start,omitempty"`
	Recorded string `json:"recorded"` // hex, "" when not recorded
	Derived  string `json:"derived"`  // hex, "" when not derived
}

// VerifyResult is what replay --verify found.
type VerifyResult struct {
	WindowsChecked      uint64     `json:"windows_checked"`
	LabelsChecked       uint64     `json:"labels_checked"`
	Mismatches          uint64     `json:"mismatches"`
	First               []Mismatch `json:"first_mismatches,omitempty"` // up to 20
	RecordedDigest      string     `json:"recorded_window_digest,omitempty"`
	DigestMatches       bool       `json:"digest_matches"`
	RecordedLabels      string     `json:"recorded_label_digest,omitempty"`
	LabelsMatch         bool       `json:"label_digest_matches"`
	RecordedWindows     uint64     `json:"recorded_windows"`
	TracesChecked       uint64     `json:"traces_checked"`
	RecordedTraces      uint64     `json:"recorded_traces"`
	RecordedTraceDigest string     `json:"recorded_trace_digest,omitempty"`
	TracesMatch         bool       `json:"trace_digest_matches"`
	// The shadow experts' decisions (digest only; equal when none).
	RecordedShadowDigest string `json:"recorded_shadow_digest,omitempty"`
	ShadowsMatch         bool   `json:"shadow_digest_matches"`
	// Unfinished: on a journal without its end record (the run was cut),
	// what the replay derives past the journal's last records — windows
	// the cut run had not closed yet, their labels and traces — is not in
	// the journal to check against. Counted here, not as mismatches.
	// Everything the journal does hold is checked.
	Unfinished *Unfinished `json:"unfinished,omitempty"`
}

// Unfinished counts what a replay of a cut journal derived past its end.
type Unfinished struct {
	Windows uint64 `json:"windows"`
	Labels  uint64 `json:"labels"`
	Traces  uint64 `json:"traces"`
}

// OK reports whether everything matched.
func (v *VerifyResult) OK() bool {
	return v.Mismatches == 0 && v.DigestMatches && v.LabelsMatch && v.TracesMatch && v.ShadowsMatch
}

// Text writes the result for people.
func (v *VerifyResult) Text(w io.Writer) {
	status := "OK"
	if !v.OK() {
		status = "FAILED"
	}
	fmt.Fprintf(w, "verify      %s: %d windows, %d labels and %d traces re-derived and checked, %d mismatches; digests match: windows %v, labels %v, traces %v, shadow decisions %v\n",
		status, v.WindowsChecked, v.LabelsChecked, v.TracesChecked, v.Mismatches, v.DigestMatches, v.LabelsMatch, v.TracesMatch, v.ShadowsMatch)
	if u := v.Unfinished; u != nil {
		fmt.Fprintf(w, "unfinished  %d windows, %d labels and %d traces derived past the cut journal's last records (not journaled by the cut run, not checked)\n",
			u.Windows, u.Labels, u.Traces)
	}
	for _, m := range v.First {
		fmt.Fprintf(w, "  %s %s %s start %d: recorded %q derived %q\n", m.What, m.ID, m.Symbol, m.Start, m.Recorded, m.Derived)
	}
}

// verifySink checks what the partitions derive against what was recorded.
type verifySink struct {
	rec   *Recorded
	syms  *record.Symbols
	res   VerifyResult
	seenW map[[16]byte]bool
	seenL map[[16]byte]bool
	seenT map[[16]byte]bool
}

func newVerifySink(rec *Recorded, syms *record.Symbols) *verifySink {
	return &verifySink{rec: rec, syms: syms, seenW: map[[16]byte]bool{}, seenL: map[[16]byte]bool{}, seenT: map[[16]byte]bool{}}
}

func (v *verifySink) miss(m Mismatch) {
	v.res.Mismatches++
	if len(v.res.First) < 20 {
		v.res.First = append(v.res.First, m)
	}
}

func (v *verifySink) tick(*record.MarketTick) error { return nil }
func (v *verifySink) idle() error                   { return nil }
func (v *verifySink) finish() error                 { return nil }

// trace checks a re-derived trace against the recorded one of the same id.
func (v *verifySink) trace(t *decide.DecisionTrace) error {
	v.res.TracesChecked++
	v.check("trace", v.rec.Traces, v.seenT, t.ID, t.Hash, t.Symbol, t.End)
	return nil
}

func (v *verifySink) output(o *partition.Output) error {
	switch o.Kind {
	case partition.OutWindow:
		v.res.WindowsChecked++
		v.check("window", v.rec.Windows, v.seenW, o.Window.ID, o.Window.Hash, o.Window.Symbol, o.Window.Start)
	case partition.OutLabel:
		v.res.LabelsChecked++
		v.check("label", v.rec.Labels, v.seenL, o.Label.WindowID, o.Label.Hash, o.Label.Symbol, o.Label.End)
	}
	return nil
}

// check compares a re-derived hash with the one recorded under id.
func (v *verifySink) check(what string, recorded map[[16]byte][32]byte, seen map[[16]byte]bool, id [16]byte, hash [32]byte, sym uint32, at int64) {
	seen[id] = true
	want, ok := recorded[id]
	if ok && want == hash {
		return
	}
	if !ok && v.rec.End == nil {
		// A cut journal: derived past what the run had journaled.
		u := v.unfinished()
		switch what {
		case "window":
			u.Windows++
		case "label":
			u.Labels++
		case "trace":
			u.Traces++
		}
		return
	}
	m := Mismatch{What: what, ID: window.FormatUUID(id), Symbol: v.syms.Name(sym), Start: at, Derived: hexDigest(hash)}
	if ok {
		m.Recorded = hexDigest(want)
	}
	v.miss(m)
}

func (v *verifySink) unfinished() *Unfinished {
	if v.res.Unfinished == nil {
		v.res.Unfinished = &Unfinished{}
	}
	return v.res.Unfinished
}

// result finishes the check once the replay is over: recorded windows and
// labels that were not re-derived are mismatches too, and the digests of
// the replay must equal those recorded at the end of the run.
func (v *verifySink) result(sum *Summary) *VerifyResult {
	r := &v.res
	r.RecordedWindows = uint64(len(v.rec.Windows))
	for id, h := range v.rec.Windows {
		if !v.seenW[id] {
			v.miss(Mismatch{What: "window", ID: window.FormatUUID(id), Recorded: hexDigest(h)})
		}
	}
	for id, h := range v.rec.Labels {
		if !v.seenL[id] {
			v.miss(Mismatch{What: "label", ID: window.FormatUUID(id), Recorded: hexDigest(h)})
		}
	}
	for id, h := range v.rec.Traces {
		if !v.seenT[id] {
			v.miss(Mismatch{What: "trace", ID: window.FormatUUID(id), Recorded: hexDigest(h)})
		}
	}
	r.RecordedTraces = uint64(len(v.rec.Traces))
	if e := v.rec.End; e != nil {
		r.RecordedDigest, r.RecordedLabels, r.RecordedTraceDigest = e.WindowDigest, e.LabelDigest, e.TraceDigest
		r.DigestMatches = e.WindowDigest == sum.WindowDigest
		r.LabelsMatch = e.LabelDigest == sum.LabelDigest
		r.TracesMatch = e.TraceDigest == sum.TraceDigest
		r.RecordedShadowDigest, r.ShadowsMatch = e.ShadowDigest, e.ShadowDigest == sum.ShadowDigest
	} else {
		// A run killed before its end record: the per-record checks stand alone.
		r.DigestMatches, r.LabelsMatch, r.TracesMatch, r.ShadowsMatch = true, true, true, true
	}
	return r
}

// LoadRecorded reads every window, label and the end record of a run's
// journal, for replay --verify.
func LoadRecorded(dir string) (*Recorded, error) {
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		return nil, fmt.Errorf("open journal %s: %w", dir, err)
	}
	defer r.Close()
	rec := &Recorded{Windows: map[[16]byte][32]byte{}, Labels: map[[16]byte][32]byte{}, Traces: map[[16]byte][32]byte{}, Kinds: map[string]uint64{}}
	for {
		kind, off, payload, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rec, nil
		}
		if err != nil {
			return nil, fmt.Errorf("journal %s: %w", dir, err)
		}
		rec.Kinds[runjournal.KindName(kind)]++
		if err := rec.add(kind, payload); err != nil {
			return nil, fmt.Errorf("journal %s record %d: %w", dir, off, err)
		}
	}
}

// add takes one record of a run's journal into rec.
func (rec *Recorded) add(kind uint8, payload []byte) error {
	switch kind {
	case runjournal.RecWindow:
		return keepHash(rec.Windows, payload, window.DecodeWindowRecord,
			func(d window.DecodedWindow) ([16]byte, [32]byte) { return d.Window.ID, d.Hash })
	case runjournal.RecLabel:
		return keepHash(rec.Labels, payload, window.DecodeLabel,
			func(d window.DecodedLabel) ([16]byte, [32]byte) { return d.Label.WindowID, d.Label.Hash })
	case runjournal.RecTrace:
		return keepHash(rec.Traces, payload, decide.DecodeTraceRecord,
			func(d decide.DecodedTrace) ([16]byte, [32]byte) { return d.Trace.ID, d.Trace.Hash })
	case runjournal.RecReject:
		rec.Rejects++
	case runjournal.RecEnd:
		var e endRecord
		if err := json.Unmarshal(payload, &e); err != nil {
			return fmt.Errorf("end record: %w", err)
		}
		rec.End = &e
	}
	return nil
}

// keepHash decodes a record and keeps the hash it carries under its id.
func keepHash[D any](m map[[16]byte][32]byte, payload []byte, decode func([]byte) (D, error), idHash func(D) ([16]byte, [32]byte)) error {
	d, err := decode(payload)
	if err != nil {
		return err
	}
	id, h := idHash(d)
	m[id] = h
	return nil
}
