package engine

import (
	"context"
	"fmt"
	"os"
	"time"

	"thunderline/engine/edgar"
	"thunderline/engine/runjournal"
	"thunderline/engine/ship"
)

// What runs beside a market run: the Postgres shipper tailing its journal,
// and the filings path of the profile's edgar section.

// startShipper connects, migrates and starts shipping p's journal when the
// profile enables Postgres (nil otherwise).
func (p *Pipeline) startShipper(ctx context.Context) (*ship.Shipper, error) {
	if !p.prof.Postgres.Enabled {
		return nil, nil
	}
	dsn := p.prof.PostgresDSN(os.Getenv)
	if dsn == "" {
		return nil, fmt.Errorf("postgres: enabled, but neither THUNDERLINE_PG_DSN nor postgres.dsn is set")
	}
	if p.jour == nil {
		return nil, fmt.Errorf("postgres: the profile's journal is disabled; the shipper tails the journal")
	}
	sh, err := ship.Start(ctx, dsn, p.prof, p.opts.JournalDir, p.jour, p.log)
	if err != nil {
		return nil, err
	}
	p.shipping.Store(sh)
	return sh, nil
}

// startEdgar starts the filings path of p's profile, journaled beside the
// run's journal (<dir>-edgar), publishing through p's hooks.
func (p *Pipeline) startEdgar(ctx context.Context) (*edgar.Beside, error) {
	jdir := ""
	if p.opts.JournalDir != "" {
		jdir = p.opts.JournalDir + "-edgar"
	}
	o, err := edgar.OptionsFor(p.prof)
	if err != nil {
		return nil, fmt.Errorf("edgar: %w", err)
	}
	o.JournalDir, o.Logger, o.Live = jdir, p.log, p.edgarLive
	o.Inputs = []string{p.prof.Edgar.Dir + p.prof.Edgar.URL}
	o.OnWindow, o.OnTrace, o.OnReject = p.OnEdgarWindow, p.OnEdgarTrace, p.onEdgarReject
	return edgar.StartBeside(ctx, p.prof, o)
}

// edgarParts is the filings path's partition count.
func (p *Pipeline) edgarParts() int {
	if n := p.prof.Edgar.Partitions; n > 0 {
		return n
	}
	return p.prof.NumPartitions()
}

// onEdgarReject reports a rejected document to its flow actor.
func (p *Pipeline) onEdgarReject(part int, rej edgar.Reject) {
	if p.tree != nil {
		p.tree.EdgarRejected(part, rej.Name+": "+rej.Reason)
	}
}

// keepJournals applies the profile's journal retention (journal.keep_for,
// journal.keep_bytes) now and every minute until stop, never to the run's
// own journal (current).
func (p *Pipeline) keepJournals(current string) (stop func()) {
	j := p.prof.Journal
	r := runjournal.Retention{Root: p.prof.JournalRoot(), KeepFor: time.Duration(j.KeepFor), KeepBytes: j.KeepBytes, Current: current}
	if r.KeepFor <= 0 && r.KeepBytes <= 0 {
		return func() {}
	}
	pass := func() {
		rep, err := r.Apply()
		if err != nil {
			p.log.Error("journal retention", "err", err)
		}
		p.retention.deleted.Add(uint64(len(rep.Deleted)))
		p.retention.freed.Add(uint64(rep.Freed))
		p.retention.kept.Store(uint64(len(rep.Kept)))
		for _, d := range rep.Deleted {
			p.log.Info("journal retention: deleted", "dir", d)
		}
		for d, why := range rep.Kept {
			p.log.Info("journal retention: kept past its limit", "dir", d, "why", why)
		}
	}
	pass()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				pass()
			}
		}
	}()
	return func() { close(done) }
}
