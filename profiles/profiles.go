// Package profiles embeds the YAML profiles shipped with the engine, so that
// `thunderline run` works from any directory with the minimal profile.
package profiles

import "embed"

//go:embed *.yaml router/*.yaml federation/*.yaml
var files embed.FS

// Minimal returns the embedded minimal profile, the engine's default.
func Minimal() []byte {
	b, err := files.ReadFile("minimal.yaml")
	if err != nil {
		panic("profiles: minimal.yaml is not embedded: " + err.Error()) // a build defect, not input
	}
	return b
}

// Get returns an embedded profile by file name (e.g. "replay.yaml").
func Get(name string) ([]byte, error) { return files.ReadFile(name) }

// EdgarRouter returns the embedded filings router (router/edgar.yaml).
func EdgarRouter() []byte {
	b, err := files.ReadFile("router/edgar.yaml")
	if err != nil {
		panic("profiles: router/edgar.yaml is not embedded: " + err.Error()) // a build defect, not input
	}
	return b
}
