package engine

import (
	"fmt"
	"sync/atomic"

	"thunderline/engine/config"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/ring"
	"thunderline/hotpath/window"
)

// newStage builds the router model from the profile and the decision stage
// between the partitions and the sink.
func (p *Pipeline) newStage() error {
	prof := p.prof
	m, err := BuildModel(prof.Router)
	if err != nil {
		return fmt.Errorf("profile %s: %w", prof.Source(), err)
	}
	_, _, ocap := prof.RingSizes()
	if p.pass, err = ring.NewSPSC[partition.Output](ocap); err != nil {
		return fmt.Errorf("rings.output: %w", err)
	}
	if p.trRing, err = ring.NewSPSC[decide.DecisionTrace](1024); err != nil {
		return err
	}
	p.traces = window.NewDigest()
	deny := decide.NewDenyList()
	for _, d := range prof.Risk.Deny {
		deny.Set(d.Tenant, d.Symbol, true)
	}
	bo := ring.Backoff{NoSleep: prof.NoSleep()}
	p.stage, err = decide.NewStage(decide.StageConfig{
		Tenant: prof.TenantName(), Partitions: len(p.parts), MaxBatch: prof.Router.WithDefaults().MaxBatch,
		Risk: RiskConfig(prof.Risk), Deny: deny,
		Emit: func(t *decide.DecisionTrace) {
			p.traces.Add(t.Symbol, &t.Hash)
			p.nTraces.Add(1)
			for !p.trRing.Push(t) {
				p.sinkWake.Wake()
				bo.Wait()
			}
			bo.Reset()
			p.sinkWake.Wake()
		},
	}, p.syms, m)
	if err != nil {
		return fmt.Errorf("profile %s: %w", prof.Source(), err)
	}
	p.models.Store(m.Version, m)
	for _, part := range p.parts {
		part.EmitMarks()
	}
	if p.jsink != nil {
		p.jsink.models = p.model
	}
	return nil
}

// model returns the router model of a version (nil if unknown).
func (p *Pipeline) model(version uint64) *decide.Model {
	if m, ok := p.models.Load(version); ok {
		return m.(*decide.Model)
	}
	return nil
}

// Stage returns the decision stage, or nil when the router is disabled.
func (p *Pipeline) Stage() *decide.Stage { return p.stage }

// ReloadRouter builds a new router version and swaps it in: the batch in
// flight finishes on the version it started with, the next one uses the
// new version. The version must be above the running one. Safe from any
// goroutine.
func (p *Pipeline) ReloadRouter(rc config.Router) error {
	if p.stage == nil {
		return fmt.Errorf("router: disabled in this run's profile")
	}
	m, err := BuildModel(rc)
	if err != nil {
		return err
	}
	p.models.Store(m.Version, m)
	if err := p.stage.Swap(m); err != nil {
		p.models.Delete(m.Version)
		return err
	}
	return nil
}

// runStage is the decision stage's goroutine: it takes the partitions'
// outputs, passes windows, labels and rejects on to the sink, feeds windows
// and watermarks to the stage, and flushes it once every partition has
// ended and their ring is empty.
func (p *Pipeline) runStage(partsDone *atomic.Bool) {
	buf := make([]partition.Output, 64)
	bo := ring.Backoff{NoSleep: p.prof.NoSleep(), Waiter: p.stageWake,
		Check: func() bool { return partsDone.Load() || p.outRing.Len() > 0 }}
	pbo := ring.Backoff{NoSleep: p.prof.NoSleep()}
	for {
		n := p.outRing.PopBatch(buf)
		if n == 0 {
			if partsDone.Load() && p.outRing.Len() == 0 {
				p.stage.Flush()
				return
			}
			bo.Wait()
			continue
		}
		bo.Reset()
		for i := range buf[:n] {
			o := &buf[i]
			switch o.Kind {
			case partition.OutMark:
				p.stage.OnMark(int(o.Partition), o.Mark)
				continue
			case partition.OutWindow:
				p.stage.OnWindow(&o.Window)
			}
			for !p.pass.Push(o) {
				p.sinkWake.Wake()
				pbo.Wait()
			}
			pbo.Reset()
			p.sinkWake.Wake()
		}
	}
}
