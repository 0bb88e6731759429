package config

import "thunderline/hotpath/decide/spec"

// Stage places the decision stage (profile section stage).
type Stage struct {
	// Inline runs the decision stage on the partition's goroutine instead
	// of its own: one loop fewer and no hand-off between the partition and
	// the router, for a single-partition, latency-first deployment on few
	// cores (see profiles/colocated.yaml). Needs partitions: 1 and the
	// router on; a replay with more partitions runs the stage on its own
	// goroutine, with the same hashes. [false]
	Inline bool `yaml:"inline"`
	// Warm, with Inline, keeps the decision path in cache: while the
	// partition waits for ticks, at most once per this interval, it routes
	// the last batch again into scratch buffers (pure experts only) and
	// reads the buffers the next batch writes, so a batch that comes after
	// a million ticks does not start from main memory. Idle time only; it
	// changes no decision or hash. [0: off; needs stage.inline]
	Warm Duration `yaml:"warm"`
}

func (p *Profile) validateStage() error {
	if p.Stage.Warm < 0 {
		return spec.Fieldf("stage.warm", "%v: want 0 (off) or a positive interval", p.Stage.Warm)
	}
	if !p.Stage.Inline {
		if p.Stage.Warm > 0 {
			return spec.Fieldf("stage.warm", "needs stage.inline (the loop that waits for ticks must be the one that decides)")
		}
		return nil
	}
	if p.Partitions != 1 {
		return spec.Fieldf("stage.inline", "needs partitions: 1 (the stage runs on the one partition's goroutine), not %d", p.Partitions)
	}
	if !p.Router.RouterEnabled() {
		return spec.Fieldf("stage.inline", "the router is disabled: there is no decision stage to run inline")
	}
	return nil
}
