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
}

func (p *Profile) validateStage() error {
	if !p.Stage.Inline {
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
