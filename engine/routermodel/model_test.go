package routermodel

import (
	"testing"

	"thunderline/engine/config"
	"thunderline/profiles"
)

// TestShippedProfilesBuild: every shipped profile's router builds.
func TestShippedProfilesBuild(t *testing.T) {
	for _, name := range []string{"minimal.yaml", "replay.yaml", "colocated.yaml", "scaled.yaml", "postgres.yaml", "filings.yaml"} {
		b, err := profiles.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		prof, err := config.Parse(b, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := Build(prof.Router); err != nil {
			t.Fatalf("%s: router: %v", name, err)
		}
	}
}
