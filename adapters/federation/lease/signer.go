package lease

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ManifestType is the JWS "typ" header of a signed manifest.
const ManifestType = "thunderline-manifest+jws"

// Signer signs manifests with a short-lived Ed25519 key (alg EdDSA). A key
// signs for ttl after it is made; then the next Sign makes a new one. A
// retired key's public half stays in JWKS until the last manifest it signed
// expires, and no longer. Sign refuses a manifest that outlives now+ttl, so
// no key is published for more than 2·ttl.
//
// The private keys never leave the Signer: it formats as a summary
// (fmt, slog) and JWKS holds public keys only. Safe for concurrent use.
type Signer struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	current *signingKey   // nil after the current key retired, until the next Sign
	retired []*signingKey // public keys still published; by retirement
}

type signingKey struct {
	kid     string
	public  jose.JSONWebKey    // public half, kid, alg EdDSA, use sig
	priv    ed25519.PrivateKey // nil once retired
	signer  jose.Signer        // nil once retired
	created time.Time
	// lastExpiry is the latest ExpiresAt of a manifest this key signed.
	lastExpiry time.Time
	// until is when a retired key leaves JWKS.
	until time.Time
}

// NewSigner makes a signer whose keys sign for ttl (> 0); now is its clock
// (nil: time.Now). It makes the first key at once.
func NewSigner(ttl time.Duration, now func() time.Time) (*Signer, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("lease signer: ttl %v: must be > 0", ttl)
	}
	if now == nil {
		now = time.Now
	}
	s := &Signer{ttl: ttl, now: now}
	k, err := newSigningKey(now())
	if err != nil {
		return nil, err
	}
	s.current = k
	return s, nil
}

func newSigningKey(now time.Time) (*signingKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lease signer: generate ed25519 key: %w", err)
	}
	return signingKeyFrom(priv, now)
}

// signingKeyFrom wraps priv, made at now, for signing.
func signingKeyFrom(priv ed25519.PrivateKey, now time.Time) (*signingKey, error) {
	pub := priv.Public().(ed25519.PublicKey)
	public := jose.JSONWebKey{Key: pub, Algorithm: string(jose.EdDSA), Use: "sig"}
	tp, err := public.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("lease signer: key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp) // RFC 7638
	public.KeyID = kid
	sig, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.EdDSA)}},
		(&jose.SignerOptions{}).WithType(ManifestType))
	if err != nil {
		return nil, fmt.Errorf("lease signer: %w", err)
	}
	return &signingKey{kid: kid, public: public, priv: priv, signer: sig, created: now}, nil
}

// TTL is how long a key signs, and the longest a manifest may live.
func (s *Signer) TTL() time.Duration { return s.ttl }

// Sign validates m and returns it as a JWS in compact serialization, signed
// by the current key (header alg EdDSA, kid, typ ManifestType). m must be
// issued no later than now (plus ClockSkew), unexpired, and expire within
// TTL of now.
func (s *Signer) Sign(m Manifest) (string, error) {
	if err := m.Validate(); err != nil {
		return "", fmt.Errorf("sign manifest: %w", err)
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("sign manifest: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	switch {
	case m.IssuedAt.After(now.Add(ClockSkew)):
		return "", fmt.Errorf("sign manifest: %w: issued_at %s is in the future", ErrInvalidManifest, m.IssuedAt.Format(time.RFC3339))
	case !now.Before(m.ExpiresAt):
		return "", fmt.Errorf("sign manifest: %w: expires_at %s has passed", ErrInvalidManifest, m.ExpiresAt.Format(time.RFC3339))
	case m.ExpiresAt.After(now.Add(s.ttl)):
		return "", fmt.Errorf("sign manifest: %w: expires_at %s is more than the key ttl %v away", ErrInvalidManifest, m.ExpiresAt.Format(time.RFC3339), s.ttl)
	}
	s.rotateLocked(now)
	if s.current == nil {
		k, err := newSigningKey(now)
		if err != nil {
			return "", err
		}
		s.current = k
	}
	k := s.current
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign manifest: %w", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("sign manifest: %w", err)
	}
	if m.ExpiresAt.After(k.lastExpiry) {
		k.lastExpiry = m.ExpiresAt
	}
	return compact, nil
}

// JWKS is the set of public keys a manifest signed by s may carry: the
// current key and the retired keys whose manifests have not all expired.
func (s *Signer) JWKS() jose.JSONWebKeySet {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotateLocked(s.now())
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, 1+len(s.retired))}
	if s.current != nil {
		set.Keys = append(set.Keys, s.current.public)
	}
	for _, k := range s.retired {
		set.Keys = append(set.Keys, k.public)
	}
	return set
}

// rotateLocked retires the current key once it is ttl old and drops the
// retired keys whose last manifest has expired.
func (s *Signer) rotateLocked(now time.Time) {
	if k := s.current; k != nil && now.Sub(k.created) >= s.ttl {
		k.until = k.created.Add(s.ttl)
		if k.lastExpiry.After(k.until) {
			k.until = k.lastExpiry
		}
		k.priv, k.signer = nil, nil // the private key is no longer reachable
		s.retired = append(s.retired, k)
		s.current = nil
	}
	kept := s.retired[:0]
	for _, k := range s.retired {
		if now.Before(k.until) {
			kept = append(kept, k)
		}
	}
	clear(s.retired[len(kept):])
	s.retired = kept
}

// String describes the signer without its keys.
func (s *Signer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	kid := ""
	if s.current != nil {
		kid = s.current.kid
	}
	return fmt.Sprintf("lease.Signer{kid: %s, retired: %d, ttl: %v}", kid, len(s.retired), s.ttl)
}

// Format prints String for every verb, so no format can reach a key.
func (s *Signer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue keeps keys out of slog output.
func (s *Signer) LogValue() slog.Value { return slog.StringValue(s.String()) }
