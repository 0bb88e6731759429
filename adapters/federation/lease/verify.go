package lease

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Errors of Verify and Sign; every error Verify returns wraps exactly one
// of them.
var (
	// ErrMalformed: not a canonical compact JWS, or a header is wrong.
	ErrMalformed = errors.New("malformed manifest token")
	// ErrAlgorithm: the token's alg (or its key's) is not EdDSA.
	ErrAlgorithm = errors.New("manifest algorithm not allowed")
	// ErrUnknownKey: the token's kid is not in the key set.
	ErrUnknownKey = errors.New("manifest signed by an unknown key")
	// ErrBadSignature: the signature does not verify.
	ErrBadSignature = errors.New("manifest signature invalid")
	// ErrExpired: the manifest's expires_at has passed.
	ErrExpired = errors.New("manifest expired")
	// ErrNotYetValid: the manifest is issued in the future (beyond ClockSkew).
	ErrNotYetValid = errors.New("manifest issued in the future")
	// ErrInvalidManifest: a signed manifest whose fields are not sane.
	ErrInvalidManifest = errors.New("invalid manifest")
)

// ClockSkew is how far in the future a manifest's issued_at may be and
// still verify (the signer's and the client's clocks differ). Expiry has
// no leeway.
const ClockSkew = time.Minute

// MaxTokenSize bounds the compact token Verify accepts.
const MaxTokenSize = 64 << 10

// allowedAlgorithms is the only list handed to go-jose: EdDSA, nothing else
// (no none, no HMAC, no RSA/ECDSA).
var allowedAlgorithms = []jose.SignatureAlgorithm{jose.EdDSA}

// Verify checks a compact JWS manifest against keys at time now and returns
// the manifest. It accepts only the canonical compact form (strict
// base64url, three parts), alg EdDSA, typ ManifestType, a kid found once in
// keys whose key is an Ed25519 public key, a valid signature, a payload
// that decodes strictly into a Manifest with sane fields, issued no later
// than now+ClockSkew and not expired at now.
func Verify(compact string, keys jose.JSONWebKeySet, now time.Time) (Manifest, error) {
	if err := canonicalCompact(compact); err != nil {
		return Manifest{}, err
	}
	jws, err := jose.ParseSignedCompact(compact, allowedAlgorithms)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return Manifest{}, fmt.Errorf("%w: %s", ErrAlgorithm, alg.Got)
		}
		return Manifest{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return Manifest{}, fmt.Errorf("%w: %d signatures, want 1", ErrMalformed, len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	if h.Algorithm != string(jose.EdDSA) { // go-jose checked it; say it again here
		return Manifest{}, fmt.Errorf("%w: %q", ErrAlgorithm, h.Algorithm)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != ManifestType {
		return Manifest{}, fmt.Errorf("%w: typ %q, want %q", ErrMalformed, typ, ManifestType)
	}
	if h.JSONWebKey != nil {
		// Trust comes from keys only; a token naming its own key is refused
		// rather than ignored.
		return Manifest{}, fmt.Errorf("%w: embedded jwk header", ErrMalformed)
	}
	if h.KeyID == "" {
		return Manifest{}, fmt.Errorf("%w: no kid", ErrUnknownKey)
	}
	pub, err := lookupKey(keys, h.KeyID)
	if err != nil {
		return Manifest{}, err
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}

	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: payload: %v", ErrInvalidManifest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Manifest{}, fmt.Errorf("%w: payload: data after the manifest", ErrInvalidManifest)
	}
	if err := m.Validate(); err != nil {
		return Manifest{}, err
	}
	if !now.Before(m.ExpiresAt) {
		return Manifest{}, fmt.Errorf("%w: expired at %s", ErrExpired, m.ExpiresAt.Format(time.RFC3339))
	}
	if m.IssuedAt.After(now.Add(ClockSkew)) {
		return Manifest{}, fmt.Errorf("%w: issued at %s", ErrNotYetValid, m.IssuedAt.Format(time.RFC3339))
	}
	return m, nil
}

// lookupKey returns the one Ed25519 public key of keys with this kid.
func lookupKey(keys jose.JSONWebKeySet, kid string) (ed25519.PublicKey, error) {
	found := keys.Key(kid)
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
	case 1:
	default:
		return nil, fmt.Errorf("%w: kid %q names %d keys", ErrUnknownKey, kid, len(found))
	}
	k := found[0]
	if k.Algorithm != "" && k.Algorithm != string(jose.EdDSA) {
		return nil, fmt.Errorf("%w: key %q is for %q", ErrAlgorithm, kid, k.Algorithm)
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Errorf("%w: key %q has use %q", ErrUnknownKey, kid, k.Use)
	}
	pub, ok := k.Key.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: key %q is %T, want an Ed25519 public key", ErrAlgorithm, kid, k.Key)
	}
	return pub, nil
}

// canonicalCompact refuses anything but header.payload.signature in strict
// unpadded base64url (a part may be empty; go-jose judges that): no whitespace, no padding, no stray bits, so a token
// has exactly one spelling and a mutated one never verifies.
func canonicalCompact(s string) error {
	if len(s) > MaxTokenSize {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(s), MaxTokenSize)
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: %d parts, want 3", ErrMalformed, len(parts))
	}
	for i, p := range parts {
		for j := 0; j < len(p); j++ {
			c := p[j]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%w: part %d: byte %d not base64url", ErrMalformed, i, j)
			}
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(p); err != nil {
			return fmt.Errorf("%w: part %d: %v", ErrMalformed, i, err)
		}
	}
	return nil
}
