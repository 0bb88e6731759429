package routermodel

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"thunderline/adapters/inputfile"
	"thunderline/adapters/safetensors"
	"thunderline/engine/config"
)

// TestBuildHostileWeights: the router a swap or PUT /router installs with
// weights at /dev/zero, out of the models directory or over the size
// limit is refused with the expert (or router.weights) named, and a router
// without such files still builds.
func TestBuildHostileWeights(t *testing.T) {
	models := t.TempDir()
	big := filepath.Join(models, "big.safetensors")
	if err := os.WriteFile(big, []byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '}'}, 0o600); err != nil {
		t.Fatal(err)
	}
	router := func(yaml string) config.Router {
		rc, err := config.ParseRouter([]byte(yaml), "test")
		if err != nil {
			t.Fatal(err)
		}
		return *rc
	}
	expertAt := func(path string) config.Router {
		return router("layers: [{experts: 1, capacity_factor: 1, p: 1, list: [{name: x, kind: mlp, weights: " + path + "}]}]\n")
	}
	cases := []struct {
		rc   config.Router
		o    Options
		want error
	}{
		{expertAt("/dev/zero"), Options{}, inputfile.ErrNotRegular},
		{router("weights: /dev/zero\nlayers: [{experts: 1, capacity_factor: 1, p: 1}]\n"), Options{}, inputfile.ErrNotRegular},
		{expertAt("/etc/passwd"), Options{Files: safetensors.LoadOptions{Dir: models}}, inputfile.ErrOutsideDir},
		{expertAt("../x.safetensors"), Options{Files: safetensors.LoadOptions{Dir: models}}, inputfile.ErrOutsideDir},
		{expertAt(big), Options{Files: safetensors.LoadOptions{MaxBytes: 4}}, inputfile.ErrTooLarge},
	}
	for i, c := range cases {
		if _, err := BuildWith(c.rc, c.o); !errors.Is(err, c.want) {
			t.Errorf("case %d: err = %v, want %v", i, err, c.want)
		}
	}
	if _, err := BuildWith(expertAt(big), Options{Files: safetensors.LoadOptions{MaxBytes: -1}}); err == nil {
		t.Error("negative Files.MaxBytes accepted")
	}
	if _, err := BuildWith(router("layers: [{experts: 2, capacity_factor: 1, p: 1}]\n"), Options{Files: safetensors.LoadOptions{Dir: models}}); err != nil {
		t.Errorf("seeded router with a models directory: %v", err)
	}
}
