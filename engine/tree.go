package engine

import (
	"fmt"

	"thunderline/actors/tree"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/expert"
	"thunderline/hotpath/partition"
)

// StartTree starts the supervised actor tree over the pipeline: flow actors
// decide partition restarts, bolt actors restart failed experts, and the
// tree's registry backs /actors. An escalation stops the run.
func (p *Pipeline) StartTree(opts tree.Options, link, eye bool) (*tree.Tree, error) {
	comps := tree.Components{
		Partitions:     len(p.parts),
		PartitionRings: func(i int) []tree.Ring { return []tree.Ring{p.inRing(i)} },
		Link:           link, Eye: eye, Federation: eye,
	}
	if p.edgarLive != nil {
		comps.EdgarPartitions = p.edgarParts()
		comps.EdgarRings = func(i int) []tree.Ring {
			n, c := p.edgarLive.Queue(i)
			return []tree.Ring{{Name: "documents", Len: n, Cap: c}}
		}
	}
	if p.jour != nil {
		comps.PersistRings = func() []tree.Ring { return append([]tree.Ring{p.outputRing()}, p.journalRing()...) }
	}
	if p.stage != nil {
		comps.Experts = func() (uint64, [][]tree.Expert) {
			m := p.stage.Current()
			layers := make([][]tree.Expert, len(m.Layers))
			for l, lm := range m.Layers {
				for _, g := range lm.Experts {
					layers[l] = append(layers[l], inBandExpert{p: p, layer: l, g: g})
				}
			}
			return m.Version, layers
		}
	}
	opts.OnEscalate = p.Fail
	if opts.Logger == nil {
		opts.Logger = p.log
	}
	t, err := tree.Start(opts, comps)
	if err != nil {
		return nil, err
	}
	p.Supervisor = t
	p.tree = t
	return t, nil
}

// inRing is partition i's input ring.
func (p *Pipeline) inRing(i int) tree.Ring {
	pcap, _, _ := p.prof.RingSizes()
	return tree.Ring{Name: "in", Len: p.inRings[i].Len(), Cap: pcap}
}

// outputRing is the partitions' output ring.
func (p *Pipeline) outputRing() tree.Ring {
	_, _, ocap := p.prof.RingSizes()
	return tree.Ring{Name: "output", Len: p.outRing.Len(), Cap: ocap}
}

// journalRing is the reader's ring to the journal, if the run journals.
func (p *Pipeline) journalRing() []tree.Ring {
	if p.tRing == nil {
		return nil
	}
	_, jcap, _ := p.prof.RingSizes()
	return []tree.Ring{{Name: "journal", Len: p.tRing.Len(), Cap: jcap}}
}

// Actors lists the run's components with their state and ring depths,
// parents before children (paths like engine/flow/0): the actor tree's
// registry when StartTree started one, else what the pipeline knows of
// itself (partitions with their supervision, the stage and its experts).
func (p *Pipeline) Actors() []tree.NodeStatus {
	if p.tree != nil {
		return p.tree.Registry().Snapshot()
	}
	status := "running"
	if !p.running.Load() {
		status = "stopped"
	}
	out := []tree.NodeStatus{{Name: "engine", Path: "engine", Status: status},
		{Name: "reader", Path: "engine/reader", Status: status, Rings: p.journalRing()}}
	p.eachPart(func(part *partition.Partition) {
		st := status
		sup := p.PartitionStatus(int(part.ID))
		switch {
		case sup.Failed:
			st = "failed"
		case part.Done():
			st = "stopped"
		}
		out = append(out, tree.NodeStatus{Name: fmt.Sprintf("flow/%d", part.ID), Path: fmt.Sprintf("engine/flow/%d", part.ID),
			Status: st, Restarts: sup.Restarts, LastError: sup.LastError, LastErrorAt: sup.LastAt,
			Rings: []tree.Ring{p.inRing(int(part.ID))}})
	})
	out = append(out, tree.NodeStatus{Name: "persist", Path: "engine/persist", Status: status, Rings: []tree.Ring{p.outputRing()}})
	if p.stage == nil {
		return out
	}
	chief := tree.NodeStatus{Name: "chief", Path: "engine/chief", Status: status}
	if p.pass != nil {
		_, _, ocap := p.prof.RingSizes()
		chief.Rings = []tree.Ring{{Name: "pass", Len: p.pass.Len(), Cap: ocap}, {Name: "traces", Len: p.trRing.Len(), Cap: 1024}}
	}
	out = append(out, chief)
	for l, lm := range p.stage.Current().Layers {
		for _, g := range lm.Experts {
			gs := g.Stats()
			st := "running"
			switch {
			case gs.Failed:
				st = "failed"
			case gs.Forced:
				st = "forced"
			}
			out = append(out, tree.NodeStatus{Name: fmt.Sprintf("bolt/%d.%s", l, gs.Name), Path: fmt.Sprintf("engine/chief/bolt/%d.%s", l, gs.Name),
				Status: st, Restarts: gs.Restarts, LastError: gs.LastError, LastErrorAt: gs.LastErrAt})
		}
	}
	return out
}

// inBandExpert is an expert as its bolt sees it: the bolt's restart and
// retirement go through Operate, in band, like an operator's (a restart
// applied from the wall clock would make a replay decide differently).
type inBandExpert struct {
	p     *Pipeline
	layer int
	g     *expert.Guard
}

func (e inBandExpert) Name() string { return e.g.Name() }

// Failed reports a panicked expert, not yet restarted nor with a restart
// on its way.
func (e inBandExpert) Failed() bool { return e.g.Failed() && !e.p.restartPending(e.g) }

func (e inBandExpert) Restart() {
	e.p.operateFor(e.g, decide.Op{Kind: decide.OpRestart, Layer: e.layer, Expert: e.g.Name()})
}

func (e inBandExpert) Force(abstain bool) {
	kind := decide.OpUnforce
	if abstain {
		kind = decide.OpRetire // the tree forces an expert only to retire it
	}
	e.p.operateFor(e.g, decide.Op{Kind: kind, Layer: e.layer, Expert: e.g.Name()})
}

// operateFor sends a supervision action in band and remembers it for g
// until the stage has applied it.
func (p *Pipeline) operateFor(g *expert.Guard, op decide.Op) {
	id, err := p.operate(op)
	if err != nil {
		p.log.Error("expert supervision action refused", "expert", op.Expert, "action", op.Kind.String(), "err", err)
		return
	}
	p.pendingOps.Store(g, id)
}

// restartPending reports whether an action sent for g has not been applied
// yet (the stage applies actions in the order of their ids).
func (p *Pipeline) restartPending(g *expert.Guard) bool {
	v, ok := p.pendingOps.Load(g)
	if !ok {
		return false
	}
	if p.stage.Metrics().Ops.Load() >= v.(uint64) {
		p.pendingOps.Delete(g)
		return false
	}
	return true
}
