package config

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"thunderline/hotpath/decide/spec"
)

// FederationSpec is a federated training run (seed 000, "Core contracts"):
// what model to train, how updates are aggregated, which clients take part
// and on which data. It is decoded strictly (ParseFederationSpec: an unknown
// key anywhere is an error naming it) and stored verbatim as the
// federation's spec_yaml (persist/postgres FL.CreateFederation).
type FederationSpec struct {
	// Name of the federation (1 to 255 bytes). Required.
	Name string `yaml:"name"`
	// ModelRef is the base checkpoint or architecture: "expert:<name>" (an
	// expert of the router, e.g. expert:mlp_head) or the path or URI of a
	// safetensors file (ends in .safetensors). Required.
	ModelRef string `yaml:"model_ref"`
	// Strategy aggregates the clients' updates. Required.
	Strategy Strategy `yaml:"strategy"`
	// NumRounds is the number of training rounds, 1 to 1000. Required.
	NumRounds int `yaml:"num_rounds"`
	// ClientFraction of the available clients sampled per round, in (0, 1].
	// Required.
	ClientFraction float64 `yaml:"client_fraction"`
	// MinClients a round needs [2].
	MinClients int `yaml:"min_clients"`
	// LocalEpochs each client trains per round [1].
	LocalEpochs int `yaml:"local_epochs"`
	// DP is differential privacy of the updates [none].
	DP *DP `yaml:"dp"`
	// SecureAgg masks the updates so the server sees only their sum.
	SecureAgg bool `yaml:"secure_agg"`
	// ClientSelector picks the clients offered a lease [every client].
	ClientSelector ClientSelector `yaml:"client_selector"`
	// DatasetSpec is the data the clients train on. Required.
	DatasetSpec DatasetSpec `yaml:"dataset_spec"`
	// Lease bounds each client's lease.
	Lease LeaseSpec `yaml:"lease"`

	source string // file the spec came from, for error messages
}

// Strategy kinds.
const (
	StrategyFedAvg  = "fedavg"
	StrategyFedProx = "fedprox"
	StrategyCustom  = "custom"
)

// Strategy is the aggregation strategy and its parameters. Which
// parameters are allowed depends on the kind:
//
//	fedavg   none
//	fedprox  mu > 0 (the proximal term's weight), required
//	custom   weighting: recency and half_life_rounds > 0, both required (an
//	         update's weight halves every half_life_rounds rounds of age)
type Strategy struct {
	Kind   string         `yaml:"kind"` // fedavg | fedprox | custom
	Params StrategyParams `yaml:"params"`
}

// StrategyParams are the parameters of every strategy kind; a kind's
// Validate refuses the ones that are not its own.
type StrategyParams struct {
	Mu             *float64 `yaml:"mu"`               // fedprox
	Weighting      string   `yaml:"weighting"`        // custom: recency
	HalfLifeRounds *float64 `yaml:"half_life_rounds"` // custom
}

// DP is differential privacy: each client's update is clipped to ClipNorm
// (L2) and noised for (Epsilon, Delta)-DP. All three are required.
type DP struct {
	Epsilon  float64 `yaml:"epsilon"`   // > 0
	Delta    float64 `yaml:"delta"`     // in (0, 1)
	ClipNorm float64 `yaml:"clip_norm"` // > 0
}

// ClientSelector picks the clients offered a lease. Empty fields select
// everything.
type ClientSelector struct {
	Tenant string   `yaml:"tenant"` // clients registered under this tenant
	Tags   []string `yaml:"tags"`   // clients carrying every tag (non-empty, no duplicates)
	// EmbeddingQuery ranks clients by the similarity of their data's
	// embedding to this text (pgvector, a later iteration).
	EmbeddingQuery string `yaml:"embedding_query"`
}

// DatasetSpec is the training data: URIs with the SHA-256 of each (hex, in
// the same order), split into Shards shards across the clients.
type DatasetSpec struct {
	URIs   []string `yaml:"uris"`   // at least one, no duplicates
	Shards int      `yaml:"shards"` // [len(uris)]
	Hashes []string `yaml:"hashes"` // one 64-digit hex SHA-256 per URI
}

// LeaseSpec bounds a client's lease.
type LeaseSpec struct {
	TTL       Duration `yaml:"ttl"`        // how long an unclaimed or idle lease lives [15m]
	EpochsMax int      `yaml:"epochs_max"` // local epochs over the whole federation [num_rounds × local_epochs]
	TokensMax int64    `yaml:"tokens_max"` // tokens a client may train on [0: no limit]
}

// Defaults of FederationSpec.
const (
	DefaultMinClients  = 2
	DefaultLocalEpochs = 1
	DefaultLeaseTTL    = 15 * time.Minute
)

// LoadFederationSpec reads and validates a federation spec file.
func LoadFederationSpec(path string) (*FederationSpec, error) {
	return spec.Load(path, "federation spec", ParseFederationSpec)
}

// ParseFederationSpec decodes a federation spec strictly, fills its
// defaults and validates it. name is the file errors name; every error is
// a *FieldError.
func ParseFederationSpec(b []byte, name string) (*FederationSpec, error) {
	s := &FederationSpec{source: name}
	if err := spec.Decode(b, s, ""); err != nil {
		return nil, spec.Locate(err, "federation spec", name)
	}
	s.applyDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Source is the file the spec was read from.
func (s *FederationSpec) Source() string { return s.source }

// applyDefaults fills the zero fields that have defaults.
func (s *FederationSpec) applyDefaults() {
	if s.MinClients == 0 {
		s.MinClients = DefaultMinClients
	}
	if s.LocalEpochs == 0 {
		s.LocalEpochs = DefaultLocalEpochs
	}
	if s.DatasetSpec.Shards == 0 {
		s.DatasetSpec.Shards = len(s.DatasetSpec.URIs)
	}
	if s.Lease.TTL == 0 {
		s.Lease.TTL = Duration(DefaultLeaseTTL)
	}
	if s.Lease.EpochsMax == 0 && s.NumRounds > 0 && s.LocalEpochs > 0 {
		s.Lease.EpochsMax = s.NumRounds * s.LocalEpochs
	}
}

// Validate checks the spec (with its defaults filled). The error is a
// *FieldError naming the field by its full path, e.g.
// "strategy.params.mu", and the file.
func (s *FederationSpec) Validate() error {
	return spec.Locate(s.validate(), "federation spec", s.source)
}

func (s *FederationSpec) validate() error {
	fail := spec.Fieldf
	switch {
	case s.Name == "":
		return fail("name", "required")
	case len(s.Name) > 255:
		return fail("name", "longer than 255 bytes")
	case s.ModelRef == "":
		return fail("model_ref", "required: expert:<name> or a .safetensors path or URI")
	}
	if ex, ok := strings.CutPrefix(s.ModelRef, "expert:"); ok {
		if ex == "" {
			return fail("model_ref", "%q: names no expert", s.ModelRef)
		}
	} else if !strings.HasSuffix(s.ModelRef, ".safetensors") {
		return fail("model_ref", "%q: want expert:<name> or a .safetensors path or URI", s.ModelRef)
	}
	if err := s.Strategy.validate(); err != nil {
		return err
	}
	switch {
	case s.NumRounds < 1 || s.NumRounds > 1000:
		return fail("num_rounds", "%d: want 1 to 1000", s.NumRounds)
	case !(s.ClientFraction > 0 && s.ClientFraction <= 1):
		return fail("client_fraction", "%g: want (0, 1]", s.ClientFraction)
	case s.MinClients < 1:
		return fail("min_clients", "%d: must be >= 1", s.MinClients)
	case s.LocalEpochs < 1:
		return fail("local_epochs", "%d: must be >= 1", s.LocalEpochs)
	}
	if d := s.DP; d != nil {
		switch {
		case !positive(d.Epsilon):
			return fail("dp.epsilon", "%g: must be > 0", d.Epsilon)
		case !(d.Delta > 0 && d.Delta < 1):
			return fail("dp.delta", "%g: want (0, 1)", d.Delta)
		case !positive(d.ClipNorm):
			return fail("dp.clip_norm", "%g: must be > 0", d.ClipNorm)
		}
	}
	if err := distinct("client_selector.tags", "tag", s.ClientSelector.Tags); err != nil {
		return err
	}
	ds := s.DatasetSpec
	if len(ds.URIs) == 0 {
		return fail("dataset_spec.uris", "required: at least one URI")
	}
	if err := distinct("dataset_spec.uris", "URI", ds.URIs); err != nil {
		return err
	}
	if ds.Shards < 1 {
		return fail("dataset_spec.shards", "%d: must be >= 1", ds.Shards)
	}
	if len(ds.Hashes) != len(ds.URIs) {
		return fail("dataset_spec.hashes", "%d hashes for %d uris: want one per URI, in order", len(ds.Hashes), len(ds.URIs))
	}
	for i, h := range ds.Hashes {
		if _, err := hex.DecodeString(h); err != nil || len(h) != 64 {
			return fail(fmt.Sprintf("dataset_spec.hashes[%d]", i), "%q: want the SHA-256 as 64 hex digits", h)
		}
	}
	l := s.Lease
	switch {
	case l.TTL <= 0:
		return fail("lease.ttl", "%v: must be > 0", time.Duration(l.TTL))
	case l.EpochsMax < s.LocalEpochs:
		return fail("lease.epochs_max", "%d: must be >= local_epochs (%d)", l.EpochsMax, s.LocalEpochs)
	case l.TokensMax < 0:
		return fail("lease.tokens_max", "%d: must not be negative", l.TokensMax)
	}
	return nil
}

// distinct refuses an empty or repeated item of the list at key; what
// names an item.
func distinct(key, what string, items []string) error {
	seen := map[string]bool{}
	for i, v := range items {
		path := fmt.Sprintf("%s[%d]", key, i)
		if v == "" {
			return spec.Fieldf(path, "empty %s", what)
		}
		if seen[v] {
			return spec.Fieldf(path, "%q: listed twice", v)
		}
		seen[v] = true
	}
	return nil
}

// positive reports whether v is a finite number > 0 (NaN and +Inf are
// not: YAML can spell both).
func positive(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

func (s Strategy) validate() error {
	p := s.Params
	fail := spec.Fieldf
	// notFor refuses the first parameter set that kind does not take.
	notFor := func(kind string, mu, weighting, halfLife bool) error {
		for _, f := range []struct {
			name    string
			set, ok bool
		}{{"mu", p.Mu != nil, mu}, {"weighting", p.Weighting != "", weighting}, {"half_life_rounds", p.HalfLifeRounds != nil, halfLife}} {
			if f.set && !f.ok {
				return fail("strategy.params."+f.name, "not a parameter of %s", kind)
			}
		}
		return nil
	}
	switch s.Kind {
	case StrategyFedAvg:
		return notFor(s.Kind, false, false, false)
	case StrategyFedProx:
		if err := notFor(s.Kind, true, false, false); err != nil {
			return err
		}
		if p.Mu == nil {
			return fail("strategy.params.mu", "required for fedprox")
		}
		if !positive(*p.Mu) {
			return fail("strategy.params.mu", "must be > 0")
		}
	case StrategyCustom:
		if err := notFor(s.Kind, false, true, true); err != nil {
			return err
		}
		if p.Weighting == "" {
			return fail("strategy.params.weighting", "required for custom: recency")
		}
		if p.Weighting != "recency" {
			return fail("strategy.params.weighting", "%q: want recency", p.Weighting)
		}
		if p.HalfLifeRounds == nil {
			return fail("strategy.params.half_life_rounds", "required for custom recency weighting")
		}
		if !positive(*p.HalfLifeRounds) {
			return fail("strategy.params.half_life_rounds", "must be > 0")
		}
	case "":
		return fail("strategy.kind", "required: fedavg, fedprox or custom")
	default:
		return fail("strategy.kind", "%q: want fedavg, fedprox or custom", s.Kind)
	}
	return nil
}
