package lease

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// clock is an injected clock: tests move it, nothing sleeps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testManifest is a sane manifest issued at now, expiring after life.
func testManifest(now time.Time, life time.Duration) Manifest {
	m := Manifest{
		FederationID:   "fed-1",
		LeaseID:        "lease-a",
		ClientID:       "alice",
		Tenant:         "acme",
		ServerAddress:  "127.0.0.1:9092",
		EpochsMax:      3,
		TokensMax:      1 << 20,
		IssuedAt:       now,
		ExpiresAt:      now.Add(life),
		Strategy:       "fedavg",
		Round0ModelURI: "s3://models/round0.safetensors",
		ModelSHA256:    strings.Repeat("ab", 32),
	}
	m.Dataset.URIs = []string{"file:///data/a.parquet", "file:///data/b.parquet"}
	m.Dataset.Shards = 2
	m.Dataset.Hashes = []string{strings.Repeat("01", 32), strings.Repeat("ef", 32)}
	return m
}

func newTestSigner(t testing.TB, ttl time.Duration) (*Signer, *clock) {
	t.Helper()
	c := newClock()
	s, err := NewSigner(ttl, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func mustSign(t testing.TB, s *Signer, m Manifest) string {
	t.Helper()
	tok, err := s.Sign(m)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// sameManifest compares manifests, times by instant.
func sameManifest(a, b Manifest) bool {
	if !a.IssuedAt.Equal(b.IssuedAt) || !a.ExpiresAt.Equal(b.ExpiresAt) {
		return false
	}
	a.IssuedAt, b.IssuedAt, a.ExpiresAt, b.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// header decodes the protected header of a compact token.
func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]any{}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSignVerifyRoundTrip(t *testing.T) {
	s, c := newTestSigner(t, time.Hour)
	m := testManifest(c.now(), 15*time.Minute)
	tok := mustSign(t, s, m)

	h := header(t, tok)
	jwks := s.JWKS()
	if len(jwks.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(jwks.Keys))
	}
	k := jwks.Keys[0]
	if h["alg"] != "EdDSA" || h["typ"] != ManifestType || h["kid"] != k.KeyID || len(h) != 3 {
		t.Fatalf("header %v: want exactly alg EdDSA, typ %s, kid %s", h, ManifestType, k.KeyID)
	}
	// kid is the RFC 7638 thumbprint of the public key.
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil || b64(tp) != k.KeyID {
		t.Fatalf("kid %s is not the key's SHA-256 thumbprint %s (%v)", k.KeyID, b64(tp), err)
	}
	if !k.IsPublic() || k.Algorithm != "EdDSA" || k.Use != "sig" {
		t.Fatalf("JWKS key: public %v alg %q use %q", k.IsPublic(), k.Algorithm, k.Use)
	}

	// Verify with the set as a client gets it: JSON over the wire.
	wire, err := json.Marshal(jwks)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wire, []byte(`"d"`)) {
		t.Fatalf("JWKS JSON carries a private key: %s", wire)
	}
	var fetched jose.JSONWebKeySet
	if err := json.Unmarshal(wire, &fetched); err != nil {
		t.Fatal(err)
	}
	got, err := Verify(tok, fetched, c.now().Add(time.Minute))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !sameManifest(got, m) {
		t.Fatalf("round trip changed the manifest:\n got %+v\nwant %+v", got, m)
	}
	// JSON field names are snake_case.
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	for _, f := range []string{`"federation_id"`, `"lease_id"`, `"client_id"`, `"server_address"`, `"dataset":{"uris"`, `"epochs_max"`, `"tokens_max"`, `"issued_at"`, `"expires_at"`, `"round0_model_uri"`, `"model_sha256"`} {
		if !bytes.Contains(payload, []byte(f)) {
			t.Errorf("payload lacks %s: %s", f, payload)
		}
	}
}

func TestVerifyTamperedPayload(t *testing.T) {
	s, c := newTestSigner(t, time.Hour)
	tok := mustSign(t, s, testManifest(c.now(), 15*time.Minute))
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])

	// One byte of the payload, re-encoded canonically: the signature must fail.
	i := bytes.Index(payload, []byte(`"alice"`)) + 1
	payload[i] = 'm' // "mlice"
	tampered := parts[0] + "." + b64(payload) + "." + parts[2]
	if _, err := Verify(tampered, s.JWKS(), c.now()); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered payload: err %v, want ErrBadSignature", err)
	}
	// Every single flipped bit of the decoded payload.
	payload[i] = 'a'
	for j := range payload {
		p := bytes.Clone(payload)
		p[j] ^= 0x01
		tok := parts[0] + "." + b64(p) + "." + parts[2]
		if _, err := Verify(tok, s.JWKS(), c.now()); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("payload bit flip at %d: err %v, want ErrBadSignature", j, err)
		}
	}
	// A flipped signature byte.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[10] ^= 0x80
	if _, err := Verify(parts[0]+"."+parts[1]+"."+b64(sig), s.JWKS(), c.now()); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered signature: err %v, want ErrBadSignature", err)
	}
}

// TestVerifyRefusesOtherAlgorithms crafts tokens by hand that a lax
// verifier would accept: none, HS256 keyed with the public key (the
// classic confusion), and EdDSA under a wrong typ.
func TestVerifyRefusesOtherAlgorithms(t *testing.T) {
	s, c := newTestSigner(t, time.Hour)
	m := testManifest(c.now(), 15*time.Minute)
	jwks := s.JWKS()
	kid := jwks.Keys[0].KeyID
	pub := jwks.Keys[0].Key.(ed25519.PublicKey)
	payload, _ := json.Marshal(m)

	craft := func(hdr map[string]any, sign func(input string) []byte) string {
		h, _ := json.Marshal(hdr)
		input := b64(h) + "." + b64(payload)
		return input + "." + b64(sign(input))
	}
	hs256 := func(key []byte) func(string) []byte {
		return func(input string) []byte {
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte(input))
			return mac.Sum(nil)
		}
	}
	empty := func(string) []byte { return nil }

	f := func(name, tok string, want ...error) {
		t.Helper()
		got, err := Verify(tok, jwks, c.now())
		if err == nil {
			t.Fatalf("%s: accepted, manifest %+v", name, got)
		}
		for _, w := range want {
			if errors.Is(err, w) {
				return
			}
		}
		t.Fatalf("%s: err %v, want one of %v", name, err, want)
	}
	f("alg none", craft(map[string]any{"alg": "none", "kid": kid, "typ": ManifestType}, empty), ErrAlgorithm)
	f("alg none, no kid", craft(map[string]any{"alg": "none"}, empty), ErrAlgorithm)
	f("alg None", craft(map[string]any{"alg": "None", "kid": kid, "typ": ManifestType}, empty), ErrAlgorithm)
	f("HS256 with the public key as secret", craft(map[string]any{"alg": "HS256", "kid": kid, "typ": ManifestType}, hs256(pub)), ErrAlgorithm)
	f("HS256 with the JWK x as secret", craft(map[string]any{"alg": "HS256", "kid": kid, "typ": ManifestType}, hs256([]byte(b64(pub)))), ErrAlgorithm)
	f("ES256 header", craft(map[string]any{"alg": "ES256", "kid": kid, "typ": ManifestType}, empty), ErrAlgorithm)
	f("EdDSA without a signature", craft(map[string]any{"alg": "EdDSA", "kid": kid, "typ": ManifestType}, empty), ErrBadSignature)

	// A real EdDSA signature with the wrong typ (or none) is still refused.
	priv := signerPrivateKey(t, s)
	edsign := func(input string) []byte { return ed25519.Sign(priv, []byte(input)) }
	f("EdDSA wrong typ", craft(map[string]any{"alg": "EdDSA", "kid": kid, "typ": "JWT"}, edsign), ErrMalformed)
	f("EdDSA no typ", craft(map[string]any{"alg": "EdDSA", "kid": kid}, edsign), ErrMalformed)
	// And the control: the same hand-made token with the right header verifies,
	// so the refusals above are about the header, not the crafting.
	if _, err := Verify(craft(map[string]any{"alg": "EdDSA", "kid": kid, "typ": ManifestType}, edsign), jwks, c.now()); err != nil {
		t.Fatalf("hand-made valid EdDSA token refused: %v", err)
	}

	// A key set entry that is not an Ed25519 public key is never used.
	hmacSet := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: []byte(pub), KeyID: kid}}}
	f("HS256 against an octet key set", craft(map[string]any{"alg": "HS256", "kid": kid, "typ": ManifestType}, hs256(pub)), ErrAlgorithm)
	if _, err := Verify(mustSign(t, s, m), hmacSet, c.now()); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("EdDSA token against an octet key: err %v, want ErrAlgorithm", err)
	}
}

// signerPrivateKey digs the current private key out of the signer, for
// hand-crafted tokens. Only tests do this.
func signerPrivateKey(t *testing.T, s *Signer) ed25519.PrivateKey {
	t.Helper()
	if s.current == nil || s.current.priv == nil {
		t.Fatal("signer has no current key")
	}
	return s.current.priv
}

func TestVerifyExpiredAndNotYetValid(t *testing.T) {
	s, c := newTestSigner(t, time.Hour)
	m := testManifest(c.now(), 15*time.Minute)
	tok := mustSign(t, s, m)
	jwks := s.JWKS()

	f := func(at time.Time, want error) {
		t.Helper()
		_, err := Verify(tok, jwks, at)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("Verify at %s: err %v, want %v", at.Format(time.RFC3339Nano), err, want)
		}
	}
	f(m.ExpiresAt.Add(-time.Nanosecond), nil)
	f(m.ExpiresAt, ErrExpired) // no leeway on expiry
	f(m.ExpiresAt.Add(24*time.Hour), ErrExpired)
	f(m.IssuedAt.Add(-ClockSkew), nil) // the client's clock is a bit behind
	f(m.IssuedAt.Add(-ClockSkew-time.Second), ErrNotYetValid)
}

func TestVerifyUnknownKey(t *testing.T) {
	s, c := newTestSigner(t, time.Hour)
	other, _ := newTestSigner(t, time.Hour)
	tok := mustSign(t, s, testManifest(c.now(), 15*time.Minute))

	if _, err := Verify(tok, other.JWKS(), c.now()); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("other signer's keys: err %v, want ErrUnknownKey", err)
	}
	if _, err := Verify(tok, jose.JSONWebKeySet{}, c.now()); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("empty key set: err %v, want ErrUnknownKey", err)
	}
	// Another key filed under the right kid is a bad signature, not a match.
	forged := other.JWKS()
	forged.Keys[0].KeyID = s.JWKS().Keys[0].KeyID
	if _, err := Verify(tok, forged, c.now()); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong key under the right kid: err %v, want ErrBadSignature", err)
	}
	// A kid listed twice is ambiguous.
	dup := s.JWKS()
	dup.Keys = append(dup.Keys, forged.Keys[0])
	if _, err := Verify(tok, dup, c.now()); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("kid listed twice: err %v, want ErrUnknownKey", err)
	}
}

func TestKeyRotation(t *testing.T) {
	const ttl = time.Hour
	s, c := newTestSigner(t, ttl)

	// Just before rotation, sign a manifest that lives a full ttl.
	c.advance(ttl - time.Minute)
	old := testManifest(c.now(), ttl)
	oldTok := mustSign(t, s, old)
	oldKid := header(t, oldTok)["kid"]

	// Rotation: the next signature uses a new key.
	c.advance(2 * time.Minute)
	newTok := mustSign(t, s, testManifest(c.now(), 10*time.Minute))
	newKid := header(t, newTok)["kid"]
	if newKid == oldKid {
		t.Fatalf("key not rotated after %v: kid %v", ttl+time.Minute, newKid)
	}
	jwks := s.JWKS()
	if len(jwks.Keys) != 2 {
		t.Fatalf("after rotation JWKS has %d keys, want 2 (new + retired)", len(jwks.Keys))
	}
	for _, tok := range []string{oldTok, newTok} {
		if _, err := Verify(tok, jwks, c.now()); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}

	// Until the old manifest expires, its key stays published.
	c.advance(old.ExpiresAt.Sub(c.now()) - time.Second)
	if _, err := Verify(oldTok, s.JWKS(), c.now()); err != nil {
		t.Fatalf("old manifest a second before its expiry: %v", err)
	}
	// Past it, the old key is gone and the old manifest is unverifiable twice over.
	c.advance(time.Second)
	jwks = s.JWKS()
	for _, k := range jwks.Keys {
		if k.KeyID == oldKid {
			t.Fatalf("retired key %v still in JWKS after its last manifest expired", oldKid)
		}
	}
	if len(jwks.Keys) != 1 || jwks.Keys[0].KeyID != newKid {
		t.Fatalf("JWKS %v: want only the new key %v", jwks.Keys, newKid)
	}
	if _, err := Verify(oldTok, jwks, c.now().Add(-time.Minute)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old manifest with the pruned JWKS: err %v, want ErrUnknownKey", err)
	}

	// A key that signed nothing after its ttl leaves JWKS as soon as it retires;
	// with no Sign, JWKS is empty, and the next Sign makes a key again.
	c.advance(2 * ttl)
	if n := len(s.JWKS().Keys); n != 0 {
		t.Fatalf("JWKS long after the last key's lifetime has %d keys, want 0", n)
	}
	tok := mustSign(t, s, testManifest(c.now(), time.Minute))
	if _, err := Verify(tok, s.JWKS(), c.now()); err != nil {
		t.Fatal(err)
	}
}

func TestSignRefuses(t *testing.T) {
	s, c := newTestSigner(t, time.Hour)
	now := c.now()
	f := func(name string, mut func(*Manifest)) {
		t.Helper()
		m := testManifest(now, 15*time.Minute)
		mut(&m)
		if tok, err := s.Sign(m); !errors.Is(err, ErrInvalidManifest) {
			t.Fatalf("%s: Sign = %q, %v; want ErrInvalidManifest", name, tok, err)
		}
	}
	f("outlives the key ttl", func(m *Manifest) { m.ExpiresAt = now.Add(time.Hour + time.Second) })
	f("already expired", func(m *Manifest) { m.IssuedAt, m.ExpiresAt = now.Add(-time.Hour), now })
	f("issued in the future", func(m *Manifest) {
		m.IssuedAt = now.Add(ClockSkew + time.Second)
		m.ExpiresAt = now.Add(30 * time.Minute)
	})
	f("no client", func(m *Manifest) { m.ClientID = "" })
	if _, err := NewSigner(0, nil); err == nil {
		t.Fatal("NewSigner(0) succeeded")
	}
}

func TestManifestValidate(t *testing.T) {
	now := newClock().now()
	f := func(field string, mut func(*Manifest)) {
		t.Helper()
		m := testManifest(now, time.Minute)
		mut(&m)
		err := m.Validate()
		if !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), field) {
			t.Fatalf("%s: err %v, want ErrInvalidManifest naming it", field, err)
		}
	}
	if m := testManifest(now, time.Minute); m.Validate() != nil {
		t.Fatalf("valid manifest refused: %v", m.Validate())
	}
	f("federation_id", func(m *Manifest) { m.FederationID = "" })
	f("lease_id", func(m *Manifest) { m.LeaseID = "" })
	f("tenant", func(m *Manifest) { m.Tenant = "" })
	f("client_id", func(m *Manifest) { m.ClientID = "../alice" })
	f("strategy", func(m *Manifest) { m.Strategy = "FedAvg; drop" })
	f("server_address", func(m *Manifest) { m.ServerAddress = "flower" })
	f("server_address", func(m *Manifest) { m.ServerAddress = "flower:0" })
	f("dataset.uris", func(m *Manifest) { m.Dataset.URIs = nil; m.Dataset.Hashes = nil })
	f("dataset.uris[1]", func(m *Manifest) { m.Dataset.URIs[1] = "" })
	f("dataset.shards", func(m *Manifest) { m.Dataset.Shards = 0 })
	f("dataset.hashes", func(m *Manifest) { m.Dataset.Hashes = m.Dataset.Hashes[:1] })
	f("dataset.hashes[0]", func(m *Manifest) { m.Dataset.Hashes[0] = "zz" })
	f("epochs_max", func(m *Manifest) { m.EpochsMax = -1 })
	f("tokens_max", func(m *Manifest) { m.TokensMax = -1 })
	f("issued_at", func(m *Manifest) { m.IssuedAt = time.Time{} })
	f("expires_at", func(m *Manifest) { m.ExpiresAt = m.IssuedAt })
	f("round0_model_uri", func(m *Manifest) { m.ModelSHA256 = "" })
	f("model_sha256", func(m *Manifest) { m.ModelSHA256 = strings.Repeat("g", 64) })
}

// TestVerifyRefusesNonCanonical: a token has one spelling; whitespace,
// padding or stray bits in its last base64 character are refused although
// they decode to the same bytes.
func TestVerifyRefusesNonCanonical(t *testing.T) {
	s, c := newTestSigner(t, time.Hour)
	tok := mustSign(t, s, testManifest(c.now(), 15*time.Minute))
	jwks := s.JWKS()
	if _, err := Verify(tok, jwks, c.now()); err != nil {
		t.Fatal(err)
	}
	// 64 signature bytes take 86 characters; the last carries 4 unused bits.
	last := tok[len(tok)-1]
	idx := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last)
	stray := tok[:len(tok)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[idx|1])
	for name, bad := range map[string]string{
		"newline":    tok[:20] + "\n" + tok[20:],
		"CR":         tok[:20] + "\r" + tok[20:],
		"space":      " " + tok,
		"padding":    tok + "==",
		"stray bits": stray,
		"four parts": tok + ".",
		"JSON form":  `{"payload":"x"}`,
	} {
		if bad == tok {
			continue
		}
		if _, err := Verify(bad, jwks, c.now()); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}

func TestSignerNeverFormatsKeys(t *testing.T) {
	s, _ := newTestSigner(t, time.Hour)
	priv := signerPrivateKey(t, s)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("signer", "signer", s)
	out := fmt.Sprintf("%v %+v %#v %s %x %q", s, s, s, s, s, s) + logged.String()
	for _, secret := range []string{b64(priv.Seed()), fmt.Sprintf("%x", priv.Seed()), fmt.Sprint([]byte(priv.Seed()))} {
		if strings.Contains(out, secret) {
			t.Fatalf("formatted signer shows its private key: %s", out)
		}
	}
	if !strings.Contains(out, s.JWKS().Keys[0].KeyID) {
		t.Fatalf("formatted signer lacks its kid: %s", out)
	}
}

// TestSignerConcurrent: signers and JWKS readers race each other across
// rotations (run with -race); every token verifies with the key set read
// after it. The clock moves only between iterations (gate), so no
// iteration sees its own manifest expire.
func TestSignerConcurrent(t *testing.T) {
	s, c := newTestSigner(t, time.Minute)
	var gate sync.RWMutex
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				gate.RLock()
				now := c.now()
				tok, err := s.Sign(testManifest(now, 30*time.Second))
				if err == nil {
					_, err = Verify(tok, s.JWKS(), now)
				}
				gate.RUnlock()
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			gate.Lock()
			c.advance(time.Second)
			gate.Unlock()
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(s.JWKS().Keys); n < 1 || n > 2 {
		t.Fatalf("JWKS has %d keys after 200s of 1m keys and 30s manifests, want 1 or 2", n)
	}
}
