package config

import (
	"thunderline/adapters/safetensors"
	"thunderline/hotpath/decide/spec"
)

// Models bounds the model files a run reads: router weights, MLP experts,
// shadow candidates — from the profile, PUT /router, an expert swap, a
// promotion.
type Models struct {
	// Dir confines every model file to this directory: a relative name is
	// resolved under it, an absolute one must lie under it, and no name
	// may leave it (.., symlinks). "" (the default): any regular file the
	// engine can read — set it wherever operators with an admin token
	// should not name arbitrary files.
	Dir string `yaml:"dir"`
	// MaxBytes is the largest model file [256 MiB; at most 16 GiB].
	MaxBytes int64 `yaml:"max_bytes"`
}

// ModelFiles returns the bounds of the model files of a run.
func (p *Profile) ModelFiles() safetensors.LoadOptions {
	return safetensors.LoadOptions{Dir: p.Models.Dir, MaxBytes: p.Models.MaxBytes}.WithDefaults()
}

func (m Models) validate() error {
	if m.MaxBytes < 0 || m.MaxBytes > 16<<30 {
		return spec.Fieldf("models.max_bytes", "%d: want 1 byte to 16 GiB (0: the default 256 MiB)", m.MaxBytes)
	}
	return nil
}
