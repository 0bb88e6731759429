package edgar

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"thunderline/adapters/edgar/source"
	"thunderline/adapters/edgar/text"
	"thunderline/engine/config"
)

// OpenSource opens the filings source of a profile's edgar section: a
// directory, or an EDGAR-style site with the SEC's fair-access rules.
func OpenSource(prof *config.Profile) (source.Source, error) {
	e := prof.Edgar
	if e.Dir != "" {
		return source.Dir(e.Dir, source.DirOptions{})
	}
	state := e.State
	if state == "" {
		if err := os.MkdirAll(prof.JournalRoot(), 0o755); err != nil {
			return nil, err
		}
		state = filepath.Join(prof.JournalRoot(), "edgar-state.jsonl")
	}
	return source.NewHTTP(source.HTTPConfig{BaseURL: e.URL, DataBaseURL: e.DataURL, UserAgent: e.UserAgent,
		RatePerSec: e.Rate, StateFile: state, Indexes: e.Indexes, Forms: e.Forms, CIKs: e.CIKs, CompanyFacts: e.CompanyFacts})
}

// OptionsFor returns the options of the profile's edgar section (its
// router file and scorer); the caller adds journal, hooks and inputs.
func OptionsFor(prof *config.Profile) (Options, error) {
	e := prof.Edgar
	o := Options{Profile: prof, Partitions: e.Partitions}
	if e.Router != "" {
		rc, err := config.LoadRouter(e.Router)
		if err != nil {
			return o, err
		}
		o.Router = rc
	}
	if e.ScorerURL != "" {
		o.Scorer, o.ScorerTimeout = text.HTTPScorer{URL: e.ScorerURL}, time.Duration(e.ScorerTimeout)
	}
	return o, nil
}

// Beside is the filings path running beside a market run (`thunderline run`
// with an edgar section), until its source ends or the market run ends.
type Beside struct {
	cancel context.CancelFunc
	done   chan struct{}
	sum    *Summary
	err    error
}

// StartBeside opens the source of prof's edgar section and runs the
// filings path over it with o, until the source ends or ctx is cancelled.
func StartBeside(ctx context.Context, prof *config.Profile, o Options) (*Beside, error) {
	src, err := OpenSource(prof)
	if err != nil {
		return nil, fmt.Errorf("edgar: %w", err)
	}
	ectx, cancel := context.WithCancel(ctx)
	b := &Beside{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		defer src.Close()
		b.sum, b.err = Run(ectx, src, o)
		if errors.Is(b.err, context.Canceled) {
			b.err = nil // the market run ended first: a normal stop
		}
		if b.err != nil && o.Logger != nil {
			o.Logger.Error("edgar path stopped", "err", b.err)
		}
	}()
	return b, nil
}

// Wait lets the filings path finish on its own for at most grace, then
// stops it, and returns its summary.
func (b *Beside) Wait(grace time.Duration) (*Summary, error) {
	select {
	case <-b.done:
	case <-time.After(grace):
		b.cancel()
		<-b.done
	}
	b.cancel()
	return b.sum, b.err
}
