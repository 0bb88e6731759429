package engine

import (
	"log/slog"

	"thunderline/actors/tree"
	"thunderline/engine/config"
	"thunderline/hotpath/decide"
	"thunderline/hotpath/record"
)

// What other packages read of a pipeline (the admin backend, engine/admin):
// all of it is safe while the pipeline runs.

// Running reports whether Run is running.
func (p *Pipeline) Running() bool { return p.running.Load() }

// Symbols is the pipeline's symbol table (ids to names).
func (p *Pipeline) Symbols() *record.Symbols { return p.syms }

// Logger is the pipeline's logger.
func (p *Pipeline) Logger() *slog.Logger { return p.log }

// Tree is the actor tree StartTree started (nil without one).
func (p *Pipeline) Tree() *tree.Tree { return p.tree }

// Ladder is the backpressure ladder RunLadder started (nil without one).
func (p *Pipeline) Ladder() *Ladder { return p.ladder }

// RouterVersion is the newest router version scheduled (0 without a
// decision stage).
func (p *Pipeline) RouterVersion() uint64 { return p.lastVersion.Load() }

// RouterConfig returns a copy of a router version's config.
func (p *Pipeline) RouterConfig(version uint64) (config.Router, bool) {
	v, ok := p.routerCfgs.Load(version)
	if !ok {
		return config.Router{}, false
	}
	return routerCopy(v), true
}

// Models returns the router models of every version built so far.
func (p *Pipeline) Models() []*decide.Model {
	var out []*decide.Model
	p.models.Range(func(_, v any) bool {
		out = append(out, v.(*decide.Model))
		return true
	})
	return out
}
