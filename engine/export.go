package engine

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

// SliceRow is one example of a training slice: a window's features and its
// filled label, as JSON Lines (what a federated client trains on).
type SliceRow struct {
	WindowID string    `json:"window_id"`
	Key      string    `json:"key"`
	Kind     string    `json:"kind"`
	End      int64     `json:"end_ns"`
	Recipe   string    `json:"recipe"`
	Features []float64 `json:"features"` // the window's 13 feature slots, in slot order
	// Label is the class −1, 0, +1: the label's class, or the sign of a
	// delta label.
	Label int `json:"label"`
	// Value is the label as filled (the delta, or the class).
	Value float64 `json:"value"`
	Hash  string  `json:"window_hash"`
}

// SliceSummary counts an export.
type SliceSummary struct {
	Windows, Labels, Rows, Unlabeled, Invalid uint64
	// SHA256 is the hash of the slice file as written.
	SHA256 string
}

// ExportSlice writes the training slice of a run's journal to w: one row
// per window whose label was filled with a valid value, in the journal's
// order of label fills. Windows whose labels stayed open or invalid are
// counted, not exported. Market windows only: EDGAR windows carry no label.
func ExportSlice(dir string, w io.Writer) (SliceSummary, error) {
	var sum SliceSummary
	r, err := journal.NewReader(dir, 0)
	if err != nil {
		return sum, fmt.Errorf("export: %w", err)
	}
	defer r.Close()
	type pending struct {
		w    window.FeatureWindow
		key  string
		hash [32]byte
	}
	open := map[[16]byte]pending{}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for {
		kind, off, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("export: journal %s: %w", dir, err)
		}
		switch kind {
		case RecWindow:
			d, err := window.DecodeWindowRecord(p)
			if err != nil {
				return sum, fmt.Errorf("export: journal record %d: %w", off, err)
			}
			if d.Window.Kind != window.KindMarket {
				continue
			}
			sum.Windows++
			open[d.Window.ID] = pending{w: d.Window, key: d.Key, hash: d.Hash}
		case RecLabel:
			d, err := window.DecodeLabel(p)
			if err != nil {
				return sum, fmt.Errorf("export: journal record %d: %w", off, err)
			}
			sum.Labels++
			pw, ok := open[d.Label.WindowID]
			if !ok {
				continue
			}
			delete(open, d.Label.WindowID)
			l := &d.Label
			if !l.Valid || math.IsNaN(l.Value) || math.IsInf(l.Value, 0) {
				sum.Invalid++
				continue
			}
			cls := 0
			switch {
			case l.Value > 0:
				cls = 1
			case l.Value < 0:
				cls = -1
			}
			feats := make([]float64, window.NumFeatures)
			copy(feats, pw.w.Features[:])
			for i, v := range feats {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					feats[i] = 0
				}
			}
			row := SliceRow{WindowID: window.FormatUUID(pw.w.ID), Key: pw.key, Kind: pw.w.Kind.String(), End: pw.w.End,
				Recipe: pw.w.Recipe.String(), Features: feats, Label: cls, Value: l.Value, Hash: hex.EncodeToString(pw.hash[:])}
			if err := enc.Encode(&row); err != nil {
				return sum, fmt.Errorf("export: %w", err)
			}
			sum.Rows++
		}
	}
	sum.Unlabeled = uint64(len(open))
	return sum, bw.Flush()
}

// ExportSliceFile writes the slice to path and records its sha256.
func ExportSliceFile(dir, path string) (SliceSummary, error) {
	f, err := os.Create(path)
	if err != nil {
		return SliceSummary{}, fmt.Errorf("export: %w", err)
	}
	h := newSHA256Writer(f)
	sum, err := ExportSlice(dir, h)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	sum.SHA256 = h.hex()
	return sum, err
}

type sha256Writer struct {
	w io.Writer
	h hashWriter
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

func newSHA256Writer(w io.Writer) *sha256Writer { return &sha256Writer{w: w, h: sha256.New()} }

func (s *sha256Writer) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.h.Write(p[:n])
	return n, err
}

func (s *sha256Writer) hex() string { return hex.EncodeToString(s.h.Sum(nil)) }
