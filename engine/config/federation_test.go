package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"thunderline/profiles"
)

// TestFederationExamplesParse: the shipped example specs parse, with the
// values they document.
func TestFederationExamplesParse(t *testing.T) {
	f := func(file string, check func(s *FederationSpec) bool) {
		t.Helper()
		b, err := profiles.Get("federation/" + file)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseFederationSpec(b, file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !check(s) {
			t.Errorf("%s: unexpected spec %+v", file, s)
		}
	}
	f("fedavg.yaml", func(s *FederationSpec) bool {
		return s.Name == "fedavg-mlp-head" && s.Strategy.Kind == StrategyFedAvg && s.NumRounds == 10 && s.ClientFraction == 0.5 &&
			s.MinClients == 2 && s.LocalEpochs == 1 && s.DP == nil && !s.SecureAgg && len(s.DatasetSpec.URIs) == 2 &&
			time.Duration(s.Lease.TTL) == 15*time.Minute && s.Lease.EpochsMax == 10
	})
	f("fedprox.yaml", func(s *FederationSpec) bool {
		return s.Strategy.Kind == StrategyFedProx && s.Strategy.Params.Mu != nil && *s.Strategy.Params.Mu == 0.01 &&
			s.DatasetSpec.Shards == 16 && s.LocalEpochs == 3 && s.Lease.EpochsMax == 150 && s.Lease.TokensMax == 50000000 &&
			time.Duration(s.Lease.TTL) == 30*time.Minute
	})
	f("custom-recency.yaml", func(s *FederationSpec) bool {
		return s.Strategy.Kind == StrategyCustom && s.Strategy.Params.Weighting == "recency" &&
			*s.Strategy.Params.HalfLifeRounds == 2 && s.DatasetSpec.Shards == 3 && s.ClientSelector.EmbeddingQuery != "" &&
			s.LocalEpochs == 1 && s.Lease.EpochsMax == 20 && time.Duration(s.Lease.TTL) == DefaultLeaseTTL
	})
	f("dp-secagg.yaml", func(s *FederationSpec) bool {
		return s.SecureAgg && s.DP != nil && s.DP.Epsilon == 3 && s.DP.Delta == 1e-5 && s.DP.ClipNorm == 1 &&
			s.ModelRef == "./var/models/mlp_head.safetensors" && s.Source() == "dp-secagg.yaml"
	})
}

// validSpec is a minimal valid spec, one key per line; the cases below
// change one line.
const validSpec = `name: t
model_ref: expert:mlp_head
strategy: {kind: fedavg}
num_rounds: 3
client_fraction: 0.5
dataset_spec: {uris: [s3://b/a.parquet], hashes: [ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb]}
`

// edit returns validSpec with the line starting with key replaced by repl
// (or repl appended when no line starts with key).
func edit(key, repl string) string {
	lines := strings.Split(validSpec, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, key) {
			lines[i] = repl
			return strings.Join(lines, "\n")
		}
	}
	return validSpec + repl + "\n"
}

func TestFederationSpecDefaults(t *testing.T) {
	s, err := ParseFederationSpec([]byte(validSpec), "min.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.MinClients != 2 || s.LocalEpochs != 1 || time.Duration(s.Lease.TTL) != 15*time.Minute || s.Lease.EpochsMax != 3 ||
		s.Lease.TokensMax != 0 || s.DatasetSpec.Shards != 1 || s.DP != nil || s.SecureAgg {
		t.Errorf("defaults: %+v", s)
	}
}

func TestFederationSpecValidate(t *testing.T) {
	const hash = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
	f := func(name, yaml, wantErr string) {
		t.Helper()
		_, err := ParseFederationSpec([]byte(yaml), "spec.yaml")
		if wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), wantErr) || !strings.HasPrefix(err.Error(), "federation spec spec.yaml: ") {
			t.Errorf("%s: error %v, want one starting with the file and containing %q", name, err, wantErr)
		}
		if fe := (*FieldError)(nil); !errors.As(err, &fe) || fe.File != "spec.yaml" || !strings.Contains(wantErr, fe.Path+":") {
			t.Errorf("%s: error %#v: want a *FieldError naming the file and the field of %q", name, err, wantErr)
		}
	}
	f("valid", validSpec, "")
	f("empty document", "", "name: required")

	// name, model_ref
	f("no name", edit("name:", ""), "name: required")
	f("long name", edit("name:", "name: "+strings.Repeat("x", 256)), "name: longer than 255 bytes")
	f("no model_ref", edit("model_ref:", ""), "model_ref: required")
	f("model_ref expert without name", edit("model_ref:", "model_ref: 'expert:'"), "model_ref: \"expert:\": names no expert")
	f("model_ref not safetensors", edit("model_ref:", "model_ref: s3://m/model.pt"), "model_ref: \"s3://m/model.pt\": want expert:<name>")
	f("model_ref safetensors URI", edit("model_ref:", "model_ref: s3://m/model.safetensors"), "")
	f("model_ref safetensors path", edit("model_ref:", "model_ref: ./m.safetensors"), "")

	// strategy, per kind
	f("no strategy", edit("strategy:", ""), "strategy.kind: required")
	f("unknown kind", edit("strategy:", "strategy: {kind: fedsgd}"), `strategy.kind: "fedsgd": want fedavg, fedprox or custom`)
	f("fedavg with mu", edit("strategy:", "strategy: {kind: fedavg, params: {mu: 0.1}}"), "strategy.params.mu: not a parameter of fedavg")
	f("fedprox", edit("strategy:", "strategy: {kind: fedprox, params: {mu: 0.1}}"), "")
	f("fedprox without mu", edit("strategy:", "strategy: {kind: fedprox}"), "strategy.params.mu: required for fedprox")
	f("fedprox mu 0", edit("strategy:", "strategy: {kind: fedprox, params: {mu: 0}}"), "strategy.params.mu: must be > 0")
	f("fedprox mu negative", edit("strategy:", "strategy: {kind: fedprox, params: {mu: -1}}"), "strategy.params.mu: must be > 0")
	f("fedprox mu NaN", edit("strategy:", "strategy: {kind: fedprox, params: {mu: .nan}}"), `strategy.params.mu: ".nan": want a finite number`)
	f("fedprox mu Inf", edit("strategy:", "strategy: {kind: fedprox, params: {mu: .inf}}"), `strategy.params.mu: ".inf": want a finite number`)
	f("fedprox with weighting", edit("strategy:", "strategy: {kind: fedprox, params: {mu: 1, weighting: recency}}"),
		"strategy.params.weighting: not a parameter of fedprox")
	f("custom", edit("strategy:", "strategy: {kind: custom, params: {weighting: recency, half_life_rounds: 2.5}}"), "")
	f("custom without weighting", edit("strategy:", "strategy: {kind: custom, params: {half_life_rounds: 2}}"),
		"strategy.params.weighting: required for custom")
	f("custom entropy", edit("strategy:", "strategy: {kind: custom, params: {weighting: entropy, half_life_rounds: 2}}"),
		`strategy.params.weighting: "entropy": want recency`)
	f("custom without half-life", edit("strategy:", "strategy: {kind: custom, params: {weighting: recency}}"),
		"strategy.params.half_life_rounds: required")
	f("custom half-life 0", edit("strategy:", "strategy: {kind: custom, params: {weighting: recency, half_life_rounds: 0}}"),
		"strategy.params.half_life_rounds: must be > 0")
	f("custom with mu", edit("strategy:", "strategy: {kind: custom, params: {mu: 1, weighting: recency, half_life_rounds: 1}}"),
		"strategy.params.mu: not a parameter of custom")
	f("unknown param", edit("strategy:", "strategy: {kind: fedprox, params: {mu: 1, nu: 2}}"), "line 3: strategy.params.nu: unknown key")

	// rounds and clients
	f("num_rounds 0", edit("num_rounds:", "num_rounds: 0"), "num_rounds: 0: want 1 to 1000")
	f("num_rounds 1000", edit("num_rounds:", "num_rounds: 1000"), "")
	f("num_rounds 1001", edit("num_rounds:", "num_rounds: 1001"), "num_rounds: 1001: want 1 to 1000")
	f("client_fraction 0", edit("client_fraction:", "client_fraction: 0"), "client_fraction: 0: want (0, 1]")
	f("client_fraction 1", edit("client_fraction:", "client_fraction: 1"), "")
	f("client_fraction 1.01", edit("client_fraction:", "client_fraction: 1.01"), "client_fraction: 1.01: want (0, 1]")
	f("client_fraction NaN", edit("client_fraction:", "client_fraction: .nan"), `client_fraction: ".nan": want a finite number`)
	f("min_clients negative", edit("min_clients:", "min_clients: -1"), "min_clients: -1: must be >= 1")
	f("min_clients 1", edit("min_clients:", "min_clients: 1"), "")
	f("local_epochs negative", edit("local_epochs:", "local_epochs: -2"), "local_epochs: -2: must be >= 1")

	// dp
	f("dp", edit("dp:", "dp: {epsilon: 1, delta: 1e-5, clip_norm: 1}"), "")
	f("dp epsilon 0", edit("dp:", "dp: {epsilon: 0, delta: 1e-5, clip_norm: 1}"), "dp.epsilon: 0: must be > 0")
	f("dp epsilon missing", edit("dp:", "dp: {delta: 1e-5, clip_norm: 1}"), "dp.epsilon: 0: must be > 0")
	f("dp delta 0", edit("dp:", "dp: {epsilon: 1, delta: 0, clip_norm: 1}"), "dp.delta: 0: want (0, 1)")
	f("dp delta 1", edit("dp:", "dp: {epsilon: 1, delta: 1, clip_norm: 1}"), "dp.delta: 1: want (0, 1)")
	f("dp clip_norm negative", edit("dp:", "dp: {epsilon: 1, delta: 0.1, clip_norm: -1}"), "dp.clip_norm: -1: must be > 0")
	f("dp unknown key", edit("dp:", "dp: {epsilon: 1, delta: 0.1, clip_norm: 1, sigma: 2}"), "dp.sigma: unknown key")

	// client_selector
	f("selector", edit("client_selector:", "client_selector: {tenant: a, tags: [x, y], embedding_query: q}"), "")
	f("selector empty tag", edit("client_selector:", "client_selector: {tags: [x, '']}"), "client_selector.tags[1]: empty tag")
	f("selector duplicate tag", edit("client_selector:", "client_selector: {tags: [x, x]}"), `client_selector.tags[1]: "x": listed twice`)

	// dataset_spec
	f("no uris", edit("dataset_spec:", "dataset_spec: {}"), "dataset_spec.uris: required")
	f("empty uri", edit("dataset_spec:", "dataset_spec: {uris: [''], hashes: ["+hash+"]}"), "dataset_spec.uris[0]: empty URI")
	f("duplicate uri", edit("dataset_spec:", "dataset_spec: {uris: [a, a], hashes: ["+hash+", "+hash+"]}"), `dataset_spec.uris[1]: "a": listed twice`)
	f("hashes short", edit("dataset_spec:", "dataset_spec: {uris: [a, b], hashes: ["+hash+"]}"), "dataset_spec.hashes: 1 hashes for 2 uris")
	f("hashes long", edit("dataset_spec:", "dataset_spec: {uris: [a], hashes: ["+hash+", "+hash+"]}"), "dataset_spec.hashes: 2 hashes for 1 uris")
	f("hash not hex", edit("dataset_spec:", "dataset_spec: {uris: [a], hashes: ["+strings.Repeat("g", 64)+"]}"), "dataset_spec.hashes[0]: \"ggg")
	f("hash 63 digits", edit("dataset_spec:", "dataset_spec: {uris: [a], hashes: ["+hash[:63]+"]}"), "dataset_spec.hashes[0]:")
	f("hash upper case", edit("dataset_spec:", "dataset_spec: {uris: [a], hashes: ["+strings.ToUpper(hash)+"]}"), "")
	f("shards negative", edit("dataset_spec:", "dataset_spec: {uris: [a], shards: -1, hashes: ["+hash+"]}"), "dataset_spec.shards: -1: must be >= 1")
	f("shards", edit("dataset_spec:", "dataset_spec: {uris: [a], shards: 8, hashes: ["+hash+"]}"), "")

	// lease
	f("lease", edit("lease:", "lease: {ttl: 1h, epochs_max: 5, tokens_max: 100}"), "")
	f("lease ttl negative", edit("lease:", "lease: {ttl: -1m}"), "lease.ttl: -1m0s: must be > 0")
	f("lease ttl not a duration", edit("lease:", "lease: {ttl: 15}"), `lease.ttl: "15" is not a duration`)
	f("lease epochs_max below local_epochs", edit("lease:", "lease: {epochs_max: 1}\nlocal_epochs: 2"), "lease.epochs_max: 1: must be >= local_epochs (2)")
	f("lease epochs_max negative", edit("lease:", "lease: {epochs_max: -1}"), "lease.epochs_max: -1")
	f("lease tokens_max negative", edit("lease:", "lease: {tokens_max: -1}"), "lease.tokens_max: -1: must not be negative")

	// strict decoding: an unknown key anywhere fails, naming it
	f("unknown top-level key", edit("rounds:", "rounds: 3"), "rounds: unknown key")
	f("unknown strategy key", edit("strategy:", "strategy: {kind: fedavg, mu: 1}"), "strategy.mu: unknown key")
	f("unknown selector key", edit("client_selector:", "client_selector: {region: eu}"), "client_selector.region: unknown key")
	f("unknown dataset key", edit("dataset_spec:", "dataset_spec: {uris: [a], hashes: ["+hash+"], format: csv}"), "dataset_spec.format: unknown key")
	f("unknown lease key", edit("lease:", "lease: {ttl: 1m, renew: true}"), "lease.renew: unknown key")
	f("wrong type", edit("num_rounds:", "num_rounds: many"), `num_rounds: "many": want an integer`)
}

// TestFederationSpecErrorFormat pins the documented error shape.
func TestFederationSpecErrorFormat(t *testing.T) {
	_, err := ParseFederationSpec([]byte(edit("strategy:", "strategy: {kind: fedprox, params: {mu: 0}}")), "fedprox.yaml")
	if err == nil || err.Error() != "federation spec fedprox.yaml: strategy.params.mu: must be > 0" {
		t.Errorf("error %v", err)
	}
}

func TestLoadFederationSpec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.yaml")
	if err := os.WriteFile(path, []byte(validSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadFederationSpec(path)
	if err != nil || s.Name != "t" || s.Source() != path {
		t.Fatalf("LoadFederationSpec = %+v, %v", s, err)
	}
	if _, err := LoadFederationSpec(path + ".missing"); err == nil || !strings.Contains(err.Error(), "read federation spec") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(edit("num_rounds:", "num_rounds: 0")), 0o600)
	if _, err := LoadFederationSpec(bad); err == nil || !strings.HasPrefix(err.Error(), "federation spec "+bad+": num_rounds:") {
		t.Errorf("bad file: %v", err)
	}
}
