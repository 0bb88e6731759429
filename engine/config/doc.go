// Package config is the engine's profile: the YAML file that says what the
// engine runs, decoded strictly (an unknown key or a bad value is an error
// naming the key and the file, never a silent default) and turned into the
// options of each component; and the federation spec of a federated
// training run.
//
// It builds on hotpath/decide/spec, the leaf package that holds the router
// schema, the strict decoding (spec.Decode) and the typed error every
// parse here returns (FieldError: the field's full path, the file, the
// reason). actors import that package, never this one: config belongs to
// the engine, and imports adapters, hotpath and persist packages to turn
// the profile into their options. It must never start anything or hold
// runtime state.
package config
