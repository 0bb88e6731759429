package lease

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzSigner has a fixed key, so every fuzz worker process signs the same
// tokens as the one that added the seeds.
func fuzzSigner(t testing.TB, now time.Time) *Signer {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i*7 + 1)
	}
	k, err := signingKeyFrom(ed25519.NewKeyFromSeed(seed), now)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{ttl: time.Hour, now: func() time.Time { return now }, current: k}
}

// FuzzVerify: no input makes Verify panic, every refusal wraps one of the
// package's errors and carries no manifest, and an accepted input is
// exactly a token the signer issued, with exactly its manifest.
func FuzzVerify(f *testing.F) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := fuzzSigner(f, now)
	jwks := s.JWKS()
	kid := jwks.Keys[0].KeyID
	priv := s.current.priv

	valid := map[string]Manifest{}
	sign := func(m Manifest) string {
		tok, err := s.Sign(m)
		if err != nil {
			f.Fatal(err)
		}
		valid[tok] = m
		return tok
	}
	m := testManifest(now, 15*time.Minute)
	tok := sign(m)
	m2 := testManifest(now, 30*time.Minute)
	m2.Round0ModelURI, m2.ModelSHA256 = "", ""
	tok2 := sign(m2)

	enc := base64.RawURLEncoding.EncodeToString
	hand := func(hdr, payload string) string {
		in := enc([]byte(hdr)) + "." + enc([]byte(payload))
		return in + "." + enc(ed25519.Sign(priv, []byte(in)))
	}
	payload, _ := json.Marshal(m)
	parts := strings.Split(tok, ".")

	seeds := []string{
		tok, tok2, "", ".", "..", "...", "a.b.c", "{}", `{"payload":"","signatures":[]}`,
		tok + "x", tok[:len(tok)-1], tok[1:], parts[0] + ".." + parts[2], parts[0] + "." + parts[1] + ".",
		parts[0] + "." + enc([]byte(`{"client_id":"mallory"}`)) + "." + parts[2],
		enc([]byte(`{"alg":"none","kid":"`+kid+`","typ":"`+ManifestType+`"}`)) + "." + parts[1] + ".",
		enc([]byte(`{"alg":"HS256","kid":"`+kid+`","typ":"`+ManifestType+`"}`)) + "." + parts[1] + "." + parts[2],
		// Genuinely signed by the key but wrong inside: each must be refused.
		hand(`{"alg":"EdDSA","kid":"`+kid+`","typ":"JWT"}`, string(payload)),
		hand(`{"alg":"EdDSA","kid":"`+kid+`","typ":"`+ManifestType+`"}`, `null`),
		hand(`{"alg":"EdDSA","kid":"`+kid+`","typ":"`+ManifestType+`"}`, `{}`),
		hand(`{"alg":"EdDSA","kid":"`+kid+`","typ":"`+ManifestType+`"}`, string(payload)+` {}`),
		hand(`{"alg":"EdDSA","kid":"`+kid+`","typ":"`+ManifestType+`","crit":["exp"]}`, string(payload)),
		hand(`{"alg":"EdDSA","kid":"`+kid+`","typ":"`+ManifestType+`","jwk":{"kty":"OKP","crv":"Ed25519","x":"`+enc(priv.Public().(ed25519.PublicKey))+`"}}`, string(payload)),
		hand(`{"alg":"EdDSA","kid":"`+kid+`","typ":"`+ManifestType+`","b64":false,"crit":["b64"]}`, string(payload)),
	}
	for _, seed := range seeds {
		f.Add(seed)
	}

	sentinels := []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrBadSignature, ErrExpired, ErrNotYetValid, ErrInvalidManifest}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := Verify(in, jwks, now)
		if err != nil {
			if !sameManifest(got, Manifest{}) {
				t.Fatalf("refused with %v but returned a manifest %+v", err, got)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps none of the package's errors", err)
		}
		want, ok := valid[in]
		if !ok {
			t.Fatalf("accepted a token the signer never issued: %q → %+v", in, got)
		}
		if !sameManifest(got, want) {
			t.Fatalf("accepted token decoded to %+v, signed %+v", got, want)
		}
	})
}
