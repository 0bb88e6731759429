package engine

import (
	"fmt"
	"sync/atomic"

	"gopkg.in/yaml.v3"

	"thunderline/engine/config"
	"thunderline/engine/routermodel"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/decide/spec"
	"thunderline/hotpath/partition"
	"thunderline/hotpath/record"
	"thunderline/hotpath/ring"
	"thunderline/hotpath/window"
)

// newStage builds the router model from the profile and the decision stage
// between the partitions and the sink.
func (p *Pipeline) newStage() error {
	prof := p.prof
	m, err := routermodel.BuildWith(prof.Router, p.modelOpts())
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
	p.shadows = window.NewDigest()
	deny := decide.NewDenyList()
	for _, d := range prof.Risk.Deny {
		deny.Set(d.Tenant, d.Symbol, true)
	}
	bo := ring.Backoff{NoSleep: prof.NoSleep()}
	p.stage, err = decide.NewStage(decide.StageConfig{
		Tenant: prof.TenantName(), Partitions: len(p.parts), MaxBatch: prof.Router.WithDefaults().MaxBatch,
		Risk: routermodel.RiskConfig(prof.Risk), Deny: deny, Wire: p.opts.Wire, Warm: p.inline && prof.Stage.Warm > 0,
		Emit: func(t *decide.DecisionTrace) {
			t.AfterIn, t.AfterOuts = p.stageAfter, p.passed
			p.traces.Add(t.Symbol, &t.Hash)
			p.nTraces.Add(1)
			for k := 0; k < int(t.NShadow); k++ {
				p.shadows.Add(t.Symbol, &t.Shadows[k].Hash)
				p.nShadow.Add(1)
			}
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
	p.routerCfgs.Store(m.Version, prof.Router.WithDefaults())
	p.lastVersion.Store(m.Version)
	for _, part := range p.parts {
		part.EmitMarks()
	}
	if p.jsink != nil {
		p.jsink.models = p.Model
		p.jsink.routerYAML = p.routerYAML
		p.jsink.operatorJSON = p.operatorJSON
	}
	return nil
}

// modelOpts bounds the model files a router version reads (profile models:).
func (p *Pipeline) modelOpts() routermodel.Options {
	return routermodel.Options{Files: p.prof.ModelFiles()}
}

// Model returns the router model of a version (nil if unknown).
func (p *Pipeline) Model(version uint64) *decide.Model {
	if m, ok := p.models.Load(version); ok {
		return m.(*decide.Model)
	}
	return nil
}

// Stage returns the decision stage, or nil when the router is disabled.
func (p *Pipeline) Stage() *decide.Stage { return p.stage }

// ReloadRouter builds a new router version and schedules it in band: the
// reader inserts a control record at its current place in the input, the
// journal records the config and the control there, and the decision stage
// switches at the next boundary — so a replay of the journal switches at
// the same batch and re-derives the same traces. The version must be above
// every version scheduled so far. Safe from any goroutine; the switch
// happens once the reader next runs.
func (p *Pipeline) ReloadRouter(rc config.Router) error {
	if p.stage == nil {
		return fmt.Errorf("router: disabled in this run's profile")
	}
	rc = rc.WithDefaults()
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if last := p.lastVersion.Load(); rc.Version <= last {
		return spec.Fieldf("router.version", "%d: must be above the running version %d", rc.Version, last)
	}
	m, err := routermodel.BuildWith(rc, p.modelOpts())
	if err != nil {
		return err
	}
	p.models.Store(m.Version, m)
	p.routerCfgs.Store(m.Version, rc)
	select {
	case p.controls <- record.MarketTick{Kind: record.KindControl, Action: record.ControlRouter, Seq: m.Version}:
	default:
		return fmt.Errorf("router: version %d: too many reloads waiting for the reader", rc.Version)
	}
	p.lastVersion.Store(m.Version)
	return nil
}

// onControl applies a control record on the reader's goroutine (the
// dispatcher's hook): a router swap is scheduled for batches ending after
// boundary. In a journal replay the model is built from the journaled
// config the first time its version comes up.
func (p *Pipeline) onControl(t *record.MarketTick, boundary int64) {
	t.TsEvent = boundary // journaled with the control, for people reading it
	switch t.Action {
	case record.ControlGap:
		p.feedEvents[0].Add(1)
		return
	case record.ControlRequest:
		p.feedEvents[1].Add(1)
		return
	case record.ControlLost:
		p.feedEvents[2].Add(1)
		return
	}
	if t.Action == record.ControlOperator && p.stage != nil {
		p.applyOperator(t.Seq, boundary)
		return
	}
	if t.Action == record.ControlHalt && p.stage != nil {
		// A venue's halt: the symbol's decisions abstain (risk flag halted)
		// from the next batch until the venue resumes it.
		kind := decide.OpUndeny
		if t.Size != 0 {
			kind = decide.OpDeny
		}
		if err := p.stage.ScheduleOp(boundary, decide.Op{Kind: kind, Tenant: p.prof.TenantName(), Symbol: p.syms.Name(uint32(t.Seq))}); err != nil {
			p.controlErrs.Add(1)
		}
		return
	}
	if t.Action != record.ControlRouter || p.stage == nil {
		return
	}
	m := p.Model(t.Seq)
	if m == nil {
		rc, ok := p.routerCfgs.Load(t.Seq)
		if !ok {
			p.controlErrs.Add(1)
			return
		}
		var err error
		if m, err = routermodel.BuildWith(rc.(config.Router), p.modelOpts()); err != nil {
			p.controlErrs.Add(1)
			return
		}
		p.models.Store(m.Version, m)
	}
	if err := p.stage.Schedule(boundary, m); err != nil {
		p.controlErrs.Add(1)
		return
	}
	for {
		last := p.lastVersion.Load()
		if m.Version <= last || p.lastVersion.CompareAndSwap(last, m.Version) {
			break
		}
	}
}

// routerYAML returns the config of a router version as YAML, for the
// journal.
func (p *Pipeline) routerYAML(version uint64) ([]byte, error) {
	rc, ok := p.routerCfgs.Load(version)
	if !ok {
		return nil, fmt.Errorf("journal: router version %d has no config", version)
	}
	return yaml.Marshal(rc.(config.Router))
}

// AddRouterConfig makes a router version's config known (a journal replay
// reads them from runjournal.RecRouter records).
func (p *Pipeline) AddRouterConfig(rc config.Router) { p.routerCfgs.Store(rc.Version, rc) }

// runStage is the decision stage's goroutine: it takes the partitions'
// outputs, passes windows, labels and rejects on to the sink, feeds windows
// and watermarks to the stage, and flushes it once every partition has
// ended and their ring is empty.
func (p *Pipeline) runStage(partsDone *atomic.Bool) {
	bo := ring.Backoff{NoSleep: p.prof.NoSleep(), Waiter: p.stageWake,
		Check: func() bool { return partsDone.Load() || p.outRing.Len() > 0 }}
	for {
		if p.stageStep() == 0 {
			if partsDone.Load() && p.outRing.Len() == 0 {
				p.stage.Flush()
				return
			}
			bo.Wait()
			continue
		}
		bo.Reset()
	}
}

// stageInline is the inline stage's hook (stage.inline): the partition's
// goroutine runs it after each batch of ticks, and when the output ring is
// full; it takes every output there is.
// warmStage is the inline stage's warm-up (stage.warm), on the
// partition's goroutine while it waits for ticks: the stage's own
// (decide.Stage.Warm) and the slots of the output and pass rings the next
// batch writes (this goroutine is the only producer of both).
func (p *Pipeline) warmStage() {
	n := len(p.stageBuf)
	p.warmed += p.stage.Warm() + p.outRing.Touch(n) + p.pass.Touch(n) + ring.TouchLines(p.stageBuf)
}

func (p *Pipeline) stageInline() {
	for p.stageStep() > 0 {
	}
}

// stageStep takes one batch of the partitions' outputs off the output
// ring and handles it: windows, labels and rejects passed on to the sink,
// windows and marks fed to the stage. It returns how many it took. One
// goroutine at a time: the stage's own, or (inline) the partition's.
func (p *Pipeline) stageStep() int {
	buf := p.stageBuf
	n := p.outRing.PopBatch(buf)
	for i := range buf[:n] {
		o := &buf[i]
		p.stageAfter = max(p.stageAfter, o.After)
		if o.Kind == partition.OutMark {
			p.stage.OnMark(int(o.Partition), o.Mark)
			continue
		}
		// Passed on before the stage sees it, so the window is ahead of
		// its trace in the sink's order (Emit stamps AfterOuts).
		for !p.pass.Push(o) {
			p.sinkWake.Wake()
			p.passBackoff.Wait()
		}
		p.passed++
		p.passBackoff.Reset()
		if o.Kind == partition.OutWindow {
			p.stage.OnWindow(&o.Window)
		}
	}
	if n > 0 {
		p.sinkWake.Wake() // once a batch: a parked sink costs a syscall to wake
	}
	return n
}

// routerCopy deep-copies a stored router config (its layers and lists).
func routerCopy(v any) config.Router {
	rc := v.(config.Router)
	layers := make([]config.RouterLayer, len(rc.Layers))
	copy(layers, rc.Layers)
	for i := range layers {
		layers[i].List = append([]config.ExpertSpec(nil), layers[i].List...)
	}
	rc.Layers = layers
	return rc
}
