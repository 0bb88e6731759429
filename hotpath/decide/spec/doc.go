// Package spec is the router config schema: the `router:` section of a
// profile, or a router config on its own (a file, or the body of the admin
// API's PUT /router) — the layers of the hybrid Expert-Choice + Dynamic
// Top-P router, their experts and the shadow experts, with their defaults
// and validation. hotpath/decide runs what it describes; the engine builds
// the decide.Model from it.
//
// It also holds the strict YAML decoding every config file of the project
// goes through (Decode) and its typed error, FieldError, which names the
// offending field by its full path ("router.layers[0].p"), so that callers
// branch with errors.As and never read error text. engine/config builds the
// profile and the federation spec on both.
//
// It is a leaf: it imports only the standard library and gopkg.in/yaml.v3,
// nothing else of the project, so that actors (the admin API validates
// router configs) and engine can both import it. It is not on the per-tick
// path: it runs when a config is read or reloaded, and allocates freely.
// It must never hold runtime state or build models.
package spec
