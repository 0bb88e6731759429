package config

import "thunderline/hotpath/decide/spec"

// The router schema lives in hotpath/decide/spec, a leaf package that
// actors (the admin API validates router configs) may import too; these
// names keep the profile's API whole.
type (
	// Router is the `router:` section (spec.Router).
	Router = spec.Router
	// RouterLayer is one router layer (spec.RouterLayer).
	RouterLayer = spec.RouterLayer
	// ExpertSpec is one expert (spec.ExpertSpec).
	ExpertSpec = spec.ExpertSpec
	// Duration is a time.Duration written as "250ms" in YAML (spec.Duration).
	Duration = spec.Duration
	// FieldError is every error of Parse, ParseRouter and
	// ParseFederationSpec: the field's full path, the file and the reason
	// (spec.FieldError).
	FieldError = spec.FieldError
)

// ParseRouter decodes a router config on its own (the body of a hot reload)
// strictly and validates it (spec.ParseRouter).
func ParseRouter(b []byte, name string) (*Router, error) { return spec.ParseRouter(b, name) }

// LoadRouter reads a router config file (spec.LoadRouter).
func LoadRouter(path string) (*Router, error) { return spec.LoadRouter(path) }
