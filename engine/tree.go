package engine

import (
	"thunderline/actors/tree"
)

// StartTree starts the supervised actor tree over the pipeline: flow actors
// decide partition restarts, bolt actors restart failed experts, and the
// tree's registry backs /actors. An escalation stops the run.
func (p *Pipeline) StartTree(opts tree.Options, link, eye bool) (*tree.Tree, error) {
	pcap, jcap, ocap := p.prof.RingSizes()
	comps := tree.Components{
		Partitions: len(p.parts),
		PartitionRings: func(i int) []tree.Ring {
			return []tree.Ring{{Name: "in", Len: p.inRings[i].Len(), Cap: pcap}}
		},
		Link: link, Eye: eye, Federation: eye,
	}
	if p.edgarLive != nil {
		comps.EdgarPartitions = p.edgarParts()
		comps.EdgarRings = func(i int) []tree.Ring {
			n, c := p.edgarLive.Queue(i)
			return []tree.Ring{{Name: "documents", Len: n, Cap: c}}
		}
	}
	if p.jour != nil {
		comps.PersistRings = func() []tree.Ring {
			r := []tree.Ring{{Name: "output", Len: p.outRing.Len(), Cap: ocap}}
			if p.tRing != nil {
				r = append(r, tree.Ring{Name: "journal", Len: p.tRing.Len(), Cap: jcap})
			}
			return r
		}
	}
	if p.stage != nil {
		comps.Experts = func() (uint64, [][]tree.Expert) {
			m := p.stage.Current()
			layers := make([][]tree.Expert, len(m.Layers))
			for l, lm := range m.Layers {
				for _, g := range lm.Experts {
					layers[l] = append(layers[l], g)
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
