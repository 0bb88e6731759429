package engine

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"thunderline/adapters/remoteexpert"
	"thunderline/adapters/safetensors"
	"thunderline/engine/config"
	"thunderline/engine/routermodel"
	"thunderline/hotpath/expert"
)

// TestModelFromFiles: an MLP expert and the router's gate matrix load from
// safetensors files named in the router config, and a remote expert is
// reached over a unix socket; the traces use all of them.
func TestModelFromFiles(t *testing.T) {
	dir := t.TempDir()
	// A trained-looking MLP head: seeded weights written to a file.
	head := expert.MLPConfig{Name: "trained", In: 16, Hidden: 8, Out: expert.NumActions, Activation: expert.Tanh, Head: true}
	expert.SeedWeights(&head, 99)
	tensors, meta := safetensors.MLPTensors("trained", head)
	mlpPath := filepath.Join(dir, "trained.safetensors")
	if err := safetensors.WriteFile(mlpPath, tensors, meta); err != nil {
		t.Fatal(err)
	}
	// Router weights: a gate matrix of all zeros (uniform routing).
	gate := make([]float32, 16*3)
	wPath := filepath.Join(dir, "router.safetensors")
	if err := safetensors.WriteFile(wPath, []safetensors.Tensor{{Name: "layers.0.gate", DType: safetensors.F32, Shape: []int{16, 3}, Data: gate}}, nil); err != nil {
		t.Fatal(err)
	}
	// A remote expert served from this process over a unix socket.
	mom, _ := expert.NewMomentum("far_momentum", expert.MomentumConfig{})
	sock := filepath.Join(dir, "expert.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go remoteexpert.Serve(ln, mom)

	rc, err := config.ParseRouter([]byte(`
version: 3
weights: `+wPath+`
layers:
  - experts: 3
    capacity_factor: 3
    p: 1
    list:
      - {name: trained, kind: mlp, weights: `+mlpPath+`}
      - {name: far, kind: remote, socket: `+sock+`, deadline: 50ms}
      - {name: momentum, kind: momentum}
`), "test")
	if err != nil {
		t.Fatal(err)
	}
	m, err := routermodel.Build(*rc)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Layers[0].Router.GateWeights() {
		if v != 0 {
			t.Fatalf("gate weight %d = %v: not loaded from the file", i, v)
		}
	}
	// Route a batch through the model directly to see the remote expert answer.
	far := m.Layers[0].Experts[1]
	in := expert.Input{Features: make([]float64, 13), Embedding: make([]float32, 16)}
	in.Features[0] = 0.002 // a rising mid: momentum says buy
	in.Features[11] = 100  // the mid itself
	var out expert.Output
	far.Eval(&in, &out)
	if out.Abstain || out.Scores[expert.ActBuy] <= out.Scores[expert.ActSell] {
		t.Fatalf("remote momentum over the socket: %+v (stats %+v)", out, far.Unwrap().(*remoteexpert.Client).Stats())
	}
	prof := testProfile(t, lateProfile)
	prof.Router = *rc
	s := runSynthetic(t, prof, 40_000, 2, "")
	if s.Traces == 0 || s.Decisions.RouterVersion != 3 {
		t.Fatalf("traces %d version %d", s.Traces, s.Decisions.RouterVersion)
	}
	// p = 1 and capacity for everyone: every token keeps all three experts.
	for _, name := range []string{"trained", "far", "momentum"} {
		if _, ok := s.Decisions.ExpertPnL[name]; !ok {
			t.Fatalf("expert %s missing from the summary: %v", name, s.Decisions.ExpertPnL)
		}
	}

	// A config naming a missing file fails with the expert named.
	bad, _ := config.ParseRouter([]byte("layers: [{experts: 1, capacity_factor: 1, p: 1, list: [{name: x, kind: mlp, weights: /nonexistent.safetensors}]}]\n"), "bad")
	if _, err := routermodel.Build(*bad); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("missing weights: %v", err)
	}
	// An MLP whose dims do not fit its layer is refused.
	wrong, _ := config.ParseRouter([]byte("embed_dim: 8\nlayers: [{experts: 1, capacity_factor: 1, p: 1, list: [{name: trained, kind: mlp, weights: "+mlpPath+"}]}]\n"), "wrong")
	if _, err := routermodel.Build(*wrong); err == nil || !strings.Contains(err.Error(), "reads 16 inputs") {
		t.Fatalf("mismatched MLP: %v", err)
	}
}
