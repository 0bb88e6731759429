package lease

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Manifest is what a client is allowed to do under one lease: the Flower
// server it joins, the slice of data it trains on and its budget. The lease
// server signs it (Signer.Sign); the client trusts it only after Verify.
type Manifest struct {
	FederationID string `json:"federation_id"`
	LeaseID      string `json:"lease_id"`
	ClientID     string `json:"client_id"` // the CN of the client's certificate
	Tenant       string `json:"tenant"`
	// ServerAddress is the Flower server the client joins, host:port.
	ServerAddress string  `json:"server_address"`
	Dataset       Dataset `json:"dataset"`
	// EpochsMax and TokensMax bound the client's training over the whole
	// federation; 0 means no limit (as client_leases in persist/postgres).
	EpochsMax int64     `json:"epochs_max"`
	TokensMax int64     `json:"tokens_max"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Strategy  string    `json:"strategy"` // fedavg, fedprox, custom, ...
	// Round0ModelURI is the model the first round starts from and
	// ModelSHA256 its SHA-256 (64 hex digits); both or neither.
	Round0ModelURI string `json:"round0_model_uri"`
	ModelSHA256    string `json:"model_sha256"`
}

// Dataset is the client's training data: URIs with the SHA-256 of each
// (hex, same order), split into Shards shards (the federation spec's
// dataset_spec).
type Dataset struct {
	URIs   []string `json:"uris"`
	Shards int      `json:"shards"`
	Hashes []string `json:"hashes"`
}

// maxField bounds every identifier and URI in a manifest.
const maxField = 1024

// Validate checks the manifest's own fields (not its times against a
// clock); an error names the bad field and wraps ErrInvalidManifest.
func (m *Manifest) Validate() error {
	fail := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidManifest, field, fmt.Sprintf(format, args...))
	}
	for _, f := range []struct{ name, v string }{
		{"federation_id", m.FederationID},
		{"lease_id", m.LeaseID},
		{"client_id", m.ClientID},
		{"tenant", m.Tenant},
		{"strategy", m.Strategy},
	} {
		if f.v == "" {
			return fail(f.name, "required")
		}
		if len(f.v) > maxField {
			return fail(f.name, "longer than %d bytes", maxField)
		}
	}
	if !ValidClientID(m.ClientID) {
		return fail("client_id", "%q: want a certificate CN: 1 to 64 of [A-Za-z0-9._-], not starting with '.'", m.ClientID)
	}
	if !identifier(m.Strategy) {
		return fail("strategy", "%q: want lowercase letters, digits, '_' or '-'", m.Strategy)
	}
	if err := checkHostPort(m.ServerAddress); err != nil {
		return fail("server_address", "%q: %v", m.ServerAddress, err)
	}
	ds := m.Dataset
	if len(ds.URIs) == 0 {
		return fail("dataset.uris", "required: at least one URI")
	}
	for i, u := range ds.URIs {
		if u == "" || len(u) > maxField {
			return fail(fmt.Sprintf("dataset.uris[%d]", i), "empty or longer than %d bytes", maxField)
		}
	}
	if ds.Shards < 1 {
		return fail("dataset.shards", "%d: must be >= 1", ds.Shards)
	}
	if len(ds.Hashes) != len(ds.URIs) {
		return fail("dataset.hashes", "%d hashes for %d uris: want one per URI, in order", len(ds.Hashes), len(ds.URIs))
	}
	for i, h := range ds.Hashes {
		if !sha256Hex(h) {
			return fail(fmt.Sprintf("dataset.hashes[%d]", i), "want the SHA-256 as 64 hex digits")
		}
	}
	switch {
	case m.EpochsMax < 0:
		return fail("epochs_max", "%d: must not be negative", m.EpochsMax)
	case m.TokensMax < 0:
		return fail("tokens_max", "%d: must not be negative", m.TokensMax)
	case m.IssuedAt.IsZero():
		return fail("issued_at", "required")
	case m.ExpiresAt.IsZero():
		return fail("expires_at", "required")
	case !m.ExpiresAt.After(m.IssuedAt):
		return fail("expires_at", "not after issued_at")
	case (m.Round0ModelURI == "") != (m.ModelSHA256 == ""):
		return fail("round0_model_uri", "round0_model_uri and model_sha256 go together")
	case len(m.Round0ModelURI) > maxField:
		return fail("round0_model_uri", "longer than %d bytes", maxField)
	case m.ModelSHA256 != "" && !sha256Hex(m.ModelSHA256):
		return fail("model_sha256", "want the SHA-256 as 64 hex digits")
	}
	return nil
}

func checkHostPort(addr string) error {
	if addr == "" {
		return fmt.Errorf("required")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("no host")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port %q: want 1 to 65535", port)
	}
	return nil
}

func sha256Hex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && len(s) == 64
}

// identifier reports whether s is 1 to 64 of [a-z0-9_-].
func identifier(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
