package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRouterDefaults(t *testing.T) {
	r, err := ParseRouter([]byte("seed: 9\n"), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := r.WithDefaults()
	if !r.RouterEnabled() || d.Version != 1 || d.Seed != 9 || d.EmbedDim != 16 || d.MaxBatch != 256 ||
		len(d.Layers) != 1 || d.Layers[0].Experts != 4 || d.Layers[0].Undercovered != "argmax" || d.Layers[0].List[3].Hidden != 32 {
		t.Fatalf("defaults %+v", d)
	}
	r, err = ParseRouter([]byte(`
enabled: false
layers:
  - {experts: 2, capacity_factor: 1, p: 0.5, list: [{name: far, kind: remote, socket: /s}]}
  - {experts: 1, capacity_factor: 1, p: 1}
`), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d = r.WithDefaults()
	if r.RouterEnabled() || d.Layers[0].OutDim != 16 || time.Duration(d.Layers[0].List[0].Deadline) != 500*time.Microsecond ||
		r.Layers[0].List[0].Deadline != 0 {
		t.Fatalf("defaults %+v (WithDefaults must not write through to r)", d)
	}
}

// TestParseRouterErrors: every refusal is a *FieldError naming the router
// config's source and the field by its path under "router".
func TestParseRouterErrors(t *testing.T) {
	f := func(in, wantPath, wantReason string) {
		t.Helper()
		_, err := ParseRouter([]byte(in), "request body")
		if fe := checkFieldError(t, in, err, wantPath, wantReason); fe.Doc != "router config" || fe.File != "request body" {
			t.Errorf("%q: %v names no router config request body", in, err)
		}
	}
	layer := func(fields string) string {
		return "layers:\n  - {experts: 4, capacity_factor: 2, p: 0.5" + fields + "}\n"
	}
	f("bogus: 1\n", "router.bogus", "unknown key, not found among enabled, version")
	f(layer(", list: [{name: x, kind: mlp, bias: 1}]"), "router.layers[0].list[0].bias", "unknown key")
	f("embed_dim: 5000\n", "router.embed_dim", "5000: want 1 to 4096")
	f("version: 18446744073709551615\n", "router.version", "want 1 to 9007199254740990")
	f("version: 9007199254740991\n", "router.version", "want 1 to")
	f(`{"version": 18446744073709551616}`, "router.version", "")
	f(`{"version": 1.5}`, "router.version", "")
	f(`{"version": -1}`, "router.version", "")
	f("max_batch: 70000\n", "router.max_batch", "65535")
	f("layers: [{}, {}, {}, {}, {}]\n", "router.layers", "5 layers, at most 4")
	f(layer(", experts: 2000"), "router.layers[0].experts", "given twice (first at line 2)")
	f("layers: [{experts: 2000, capacity_factor: 2, p: 0.5}]\n", "router.layers[0].experts", "2000: want 1 to 1024")
	f("layers: [{experts: 100, capacity_factor: 2, p: 0.5, max_experts_per_token: 3}]\n", "router.layers[0].experts", "at most 64")
	f("layers: [{experts: 10, capacity_factor: 2, p: 0.5}]\n", "router.layers[0].max_experts_per_token", "set a cap")
	f("layers: [{experts: 4, capacity_factor: 0, p: 0.5}]\n", "router.layers[0].capacity_factor", "positive")
	f("layers: [{experts: 4, capacity_factor: 2, p: 1.5}]\n", "router.layers[0].p", "1.5: want a number in (0, 1]")
	f(layer(", undercovered: drop"), "router.layers[0].undercovered", `"drop"`)
	f(layer(", out_dim: 8"), "router.layers[0].out_dim", "hidden layers")
	f("layers: [{experts: 1, capacity_factor: 2, p: 0.5, list: [{name: a, kind: mlp}, {name: b, kind: mlp}]}]\n",
		"router.layers[0].list", "2 experts listed, the layer has 1")
	f(layer(", list: [{kind: mlp}]"), "router.layers[0].list[0].name", "needs a name")
	f(layer(", list: [{name: a, kind: mlp}, {name: a, kind: mlp}]"), "router.layers[0].list[1].name", "share the name")
	f(layer(", list: [{name: a, kind: laser}]"), "router.layers[0].list[0].kind", `"laser"`)
	f("layers: [{experts: 2, capacity_factor: 1, p: 0.5, list: [{name: m, kind: momentum}]}, {experts: 1, capacity_factor: 1, p: 1}]\n",
		"router.layers[0].list[0].kind", "final layer")
	f(layer(", list: [{name: a, kind: remote}]"), "router.layers[0].list[0].socket", "needs a socket")
	f(layer(", list: [{name: a, kind: mlp, budget: -1ms}]"), "router.layers[0].list[0].budget", "-1ms: must not be negative")
	f(layer(", list: [{name: a, kind: remote, socket: /s, deadline: -1ms}]"), "router.layers[0].list[0].deadline", "-1ms")
	f(layer(", list: [{name: a, kind: mlp, hidden: 5000}]"), "router.layers[0].list[0].hidden", "5000")
	f(layer(", list: [{name: a, kind: momentum, params: {z: 1, y: 2, threshold_bps: 3}}]"), "router.layers[0].list[0].params",
		`"y" is not a parameter of momentum`) // the first bad one in key order, every time
	f(layer(", list: [{name: a, kind: mlp, budget: soon}]"), "router.layers[0].list[0].budget", `"soon" is not a duration`)
	f("shadow: [{name: a, kind: mlp}, {name: b, kind: mlp}, {name: c, kind: mlp}]\n", "router.shadow", "at most 2")
	f("shadow: [{kind: mlp}]\n", "router.shadow[0].name", "needs a name")
	f("shadow: [{name: a, kind: mlp}, {name: a, kind: mlp}]\n", "router.shadow[1].name", "share the name")
	f("shadow: [{name: a, kind: remote}]\n", "router.shadow[0].kind", "action head")
	f("shadow: [{name: a, kind: mlp, hidden: -1}]\n", "router.shadow[0].hidden", "-1")
	f("version: [4\n", "", "yaml:")
}

func TestLoadRouter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte("version: 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := LoadRouter(path); err != nil || r.Version != 5 {
		t.Fatalf("LoadRouter = %+v, %v", r, err)
	}
	if _, err := LoadRouter(path + ".missing"); err == nil || !strings.Contains(err.Error(), "read router config") {
		t.Fatalf("missing file: %v", err)
	}
	os.WriteFile(path, []byte("p: 1\n"), 0o600)
	if _, err := LoadRouter(path); err == nil || err.Error() != "router config "+path+": line 1: router.p: unknown key, "+
		"not found among enabled, version, seed, embed_dim, max_batch, weights, layers, shadow" {
		t.Fatalf("bad file: %v", err)
	}
}
