package export

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

	"thunderline/engine/routermodel"
	"thunderline/engine/runjournal"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/window"
	"thunderline/persist/journal"
)

// Row is one example of a training slice: a window's features and its
// filled label, as JSON Lines (what a federated client trains on).
type Row struct {
	WindowID string `json:"window_id"`
	Key      string `json:"key"`
	Kind     string `json:"kind"`
	End      int64  `json:"end_ns"`
	Recipe   string `json:"recipe"`
	// Features is what the router's experts read: the window's embedding
	// under the run's router (Model.Embed of the raw features), so a model
	// trained on it loads as an MLP expert of that router.
	Features []float64 `json:"features"`
	// Raw is the window's 13 feature slots, in slot order.
	Raw []float64 `json:"raw_features"`
	// Label is the class −1, 0, +1: the label's class, or the sign of a
	// delta label.
	Label int `json:"label"`
	// Value is the label as filled (the delta, or the class).
	Value float64 `json:"value"`
	Hash  string  `json:"window_hash"`
}

// Summary counts an export.
type Summary struct {
	Windows, Labels, Rows, Unlabeled, Invalid uint64
	// SHA256 is the hash of the slice file as written.
	SHA256 string
}

// Slice writes the training slice of a run's journal to w: one row
// per window whose label was filled with a valid value, in the journal's
// order of label fills, with its embedding under m. Windows whose labels
// stayed open or invalid are counted, not exported. Market windows only:
// EDGAR windows carry no label.
func Slice(dir string, m *decide.Model, w io.Writer) (Summary, error) {
	var sum Summary
	// Held while it is read: retention does not delete it under us.
	hold := fmt.Sprintf("export-%d", os.Getpid())
	if err := runjournal.SetHold(dir, hold); err != nil {
		return sum, fmt.Errorf("export: %w", err)
	}
	defer runjournal.ReleaseHold(dir, hold)
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
	emb := make([]float32, m.EmbedDim)
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
		case runjournal.RecWindow:
			d, err := window.DecodeWindowRecord(p)
			if err != nil {
				return sum, fmt.Errorf("export: journal record %d: %w", off, err)
			}
			if d.Window.Kind != window.KindMarket {
				continue
			}
			sum.Windows++
			open[d.Window.ID] = pending{w: d.Window, key: d.Key, hash: d.Hash}
		case runjournal.RecLabel:
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
			raw := make([]float64, window.NumFeatures)
			copy(raw, pw.w.Features[:])
			for i, v := range raw {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					raw[i] = 0
				}
			}
			m.Embed(&pw.w.Features, emb)
			feats := make([]float64, len(emb))
			for i, v := range emb {
				feats[i] = float64(v)
			}
			row := Row{WindowID: window.FormatUUID(pw.w.ID), Key: pw.key, Kind: pw.w.Kind.String(), End: pw.w.End,
				Recipe: pw.w.Recipe.String(), Features: feats, Raw: raw, Label: cls, Value: l.Value, Hash: hex.EncodeToString(pw.hash[:])}
			if err := enc.Encode(&row); err != nil {
				return sum, fmt.Errorf("export: %w", err)
			}
			sum.Rows++
		}
	}
	sum.Unlabeled = uint64(len(open))
	return sum, bw.Flush()
}

// SliceFile writes the slice of a run's journal to path, embedded
// with the router the run recorded (its profile's), and records its sha256.
func SliceFile(dir, path string) (Summary, error) {
	m, err := journalRouter(dir)
	if err != nil {
		return Summary{}, err
	}
	f, err := os.Create(path)
	if err != nil {
		return Summary{}, fmt.Errorf("export: %w", err)
	}
	h := newSHA256Writer(f)
	sum, err := Slice(dir, m, h)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	sum.SHA256 = h.hex()
	return sum, err
}

// journalRouter builds the router model of a run from its meta record
// (the profile's router; a run that swapped routers is embedded with the
// one it started with).
func journalRouter(dir string) (*decide.Model, error) {
	prof, err := runjournal.ReadMeta(dir)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return routermodel.BuildWith(prof.Router, routermodel.Options{Files: prof.ModelFiles()})
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
