package engine

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

// EdgarSource opens the filings source of a profile's edgar section: a
// directory, or an EDGAR-style site with the SEC's fair-access rules.
func EdgarSource(prof *config.Profile) (source.Source, error) {
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

// EdgarOptionsFor returns the options of the profile's edgar section (its
// router file and scorer); the caller adds journal, hooks and inputs.
func EdgarOptionsFor(prof *config.Profile) (EdgarOptions, error) {
	e := prof.Edgar
	o := EdgarOptions{Profile: prof, Partitions: e.Partitions}
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

// edgarBeside runs the profile's filings path beside a market run, until
// its source ends or ctx is cancelled (the market run ended).
type edgarBeside struct {
	cancel context.CancelFunc
	done   chan struct{}
	sum    *EdgarSummary
	err    error
}

// startEdgar starts the filings path of p's profile, journaled in
// journalDir (empty: none), publishing through p's hooks.
func (p *Pipeline) startEdgar(ctx context.Context, journalDir string) (*edgarBeside, error) {
	src, err := EdgarSource(p.prof)
	if err != nil {
		return nil, fmt.Errorf("edgar: %w", err)
	}
	o, err := EdgarOptionsFor(p.prof)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("edgar: %w", err)
	}
	o.JournalDir, o.Logger, o.Live = journalDir, p.opts.Logger, p.edgarLive
	o.Inputs = []string{p.prof.Edgar.Dir + p.prof.Edgar.URL}
	o.OnWindow, o.OnTrace, o.OnReject = p.OnEdgarWindow, p.OnEdgarTrace, p.onEdgarReject
	ectx, cancel := context.WithCancel(ctx)
	b := &edgarBeside{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		defer src.Close()
		b.sum, b.err = RunEdgar(ectx, src, o)
		if errors.Is(b.err, context.Canceled) {
			b.err = nil // the market run ended first: a normal stop
		}
		if b.err != nil {
			p.opts.Logger.Error("edgar path stopped", "err", b.err)
		}
	}()
	return b, nil
}

// wait lets the filings path finish on its own for at most grace, then
// stops it, and returns its summary.
func (b *edgarBeside) wait(grace time.Duration) (*EdgarSummary, error) {
	select {
	case <-b.done:
	case <-time.After(grace):
		b.cancel()
		<-b.done
	}
	b.cancel()
	return b.sum, b.err
}

// edgarParts is the filings path's partition count.
func (p *Pipeline) edgarParts() int {
	if n := p.prof.Edgar.Partitions; n > 0 {
		return n
	}
	return p.prof.NumPartitions()
}

// onEdgarReject reports a rejected document to its flow actor.
func (p *Pipeline) onEdgarReject(part int, rej EdgarReject) {
	if t, ok := p.tree.(interface{ EdgarRejected(int, string) }); ok {
		t.EdgarRejected(part, rej.Name+": "+rej.Reason)
	}
}
