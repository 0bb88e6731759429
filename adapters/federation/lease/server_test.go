package lease

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// memStore is an in-memory Store for these tests (the engine's is Postgres).
type memStore struct {
	now    func() time.Time
	mu     sync.Mutex
	leases map[string]Manifest // by lease id; ClientID is the owner
	claims map[string]int      // successful claims by lease id
}

func (s *memStore) Claim(_ context.Context, leaseID, clientID string) (Manifest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.leases[leaseID]
	switch {
	case !ok:
		return Manifest{}, fmt.Errorf("claim %s: %w", leaseID, ErrLeaseNotFound)
	case m.ClientID != clientID:
		return Manifest{}, fmt.Errorf("claim %s by %s: %w", leaseID, clientID, ErrLeaseForbidden)
	case !s.now().Before(m.ExpiresAt):
		return Manifest{}, fmt.Errorf("claim %s: %w", leaseID, ErrLeaseExpired)
	}
	s.claims[leaseID]++
	return m, nil
}

func (s *memStore) claimCount(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claims[id]
}

// storeFunc adapts a function to Store.
type storeFunc func(ctx context.Context, leaseID, clientID string) (Manifest, error)

func (f storeFunc) Claim(ctx context.Context, leaseID, clientID string) (Manifest, error) {
	return f(ctx, leaseID, clientID)
}

// lineWriter sends each write (one log line) to a channel, never blocking.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	select {
	case w <- string(p):
	default:
	}
	return len(p), nil
}

type fixture struct {
	pki    *PKI
	signer *Signer
	clock  *clock
	store  *memStore
	srv    *httptest.Server
	addr   string        // host:port
	tlsLog chan string   // the http.Server's error log: handshake failures
	log    *bytes.Buffer // the lease server's slog output
	logMu  *sync.Mutex
}

const signerTTL = time.Hour

// newFixture serves a lease Server over real mutual TLS on loopback.
func newFixture(t *testing.T, store Store) *fixture {
	t.Helper()
	f := &fixture{pki: newTestPKI(t), tlsLog: make(chan string, 64), log: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	f.signer, f.clock = newTestSigner(t, signerTTL)
	now := f.clock.now()
	lease := func(id, client string, life time.Duration) Manifest {
		m := testManifest(now, life)
		m.LeaseID, m.ClientID = id, client
		return m
	}
	f.store = &memStore{now: f.clock.now, claims: map[string]int{}, leases: map[string]Manifest{
		"lease-a":       lease("lease-a", "alice", 30*time.Minute),
		"lease-b":       lease("lease-b", "bob", 30*time.Minute),
		"lease-long":    lease("lease-long", "alice", 3*time.Hour),
		"lease-expired": lease("lease-expired", "alice", time.Minute),
	}}
	if store == nil {
		store = f.store
	}
	if _, err := f.pki.ServerCert("127.0.0.1", "localhost"); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.pki.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(lockedWriter{f.logMu, f.log}, nil))
	f.srv = httptest.NewUnstartedServer(NewServer(store, f.signer, WithLogger(logger)))
	f.srv.TLS = cfg
	f.srv.Config.ErrorLog = log.New(lineWriter(f.tlsLog), "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.addr = strings.TrimPrefix(f.srv.URL, "https://")
	return f
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *fixture) logged() string {
	f.logMu.Lock()
	defer f.logMu.Unlock()
	return f.log.String()
}

// client is an HTTPS client presenting a certificate for id (none if id is
// ""), trusting only the fixture's CA.
func (f *fixture) client(t *testing.T, id string) *http.Client {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: f.pki.CAPool()}
	if id != "" {
		cert, err := f.pki.ClientCert(id)
		if err != nil {
			t.Fatal(err)
		}
		cfg = f.pki.ClientTLSConfig(cert)
	}
	return tlsClient(t, cfg)
}

func tlsClient(t *testing.T, cfg *tls.Config) *http.Client {
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// waitLog waits (with a deadline, no sleeping) for a server error-log line
// containing want.
func (f *fixture) waitLog(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case line := <-f.tlsLog:
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			t.Fatalf("server logged no line containing %q", want)
		}
	}
}

type claimResult struct {
	status   int
	manifest string
	err      Error
	header   http.Header
}

func claim(t *testing.T, c *http.Client, base, leaseID string, hdr map[string]string) claimResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/leases/"+leaseID+"/claim", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("claim %s: %v", leaseID, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := claimResult{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		var ok struct {
			Manifest string `json:"manifest"`
		}
		if err := json.Unmarshal(body, &ok); err != nil || ok.Manifest == "" {
			t.Fatalf("claim %s: body %s: %v", leaseID, body, err)
		}
		r.manifest = ok.Manifest
	} else if err := json.Unmarshal(body, &r.err); err != nil || r.err.Code == "" || r.err.Message == "" {
		t.Fatalf("claim %s: status %d, error body %q is not {code, message}", leaseID, resp.StatusCode, body)
	}
	return r
}

func fetchJWKS(t *testing.T, c *http.Client, base string) jose.JSONWebKeySet {
	t.Helper()
	resp, err := c.Get(base + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("GET /jwks: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

// handshakeErr dials the server with cfg and returns the error of the
// handshake or, in TLS 1.3 where the client finishes before the server has
// judged its certificate, of the first read.
func handshakeErr(addr string, cfg *tls.Config) error {
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("GET /jwks HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return err
	}
	_, err = conn.Read(make([]byte, 1))
	return err
}

func TestTLSRefusesClientWithoutCertificate(t *testing.T) {
	f := newFixture(t, nil)
	err := handshakeErr(f.addr, &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: f.pki.CAPool(), ServerName: "127.0.0.1"})
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Fatalf("handshake without a client certificate: err %v, want the server's certificate-required alert", err)
	}
	f.waitLog(t, "client didn't provide a certificate")

	// Through an HTTP client too: no response at all, so no lease.
	if resp, err := f.client(t, "").Post(f.srv.URL+"/leases/lease-a/claim", "", nil); err == nil {
		resp.Body.Close()
		t.Fatalf("claim without a client certificate got status %d", resp.StatusCode)
	}
	if n := f.store.claimCount("lease-a"); n != 0 {
		t.Fatalf("lease-a claimed %d times by certificate-less clients", n)
	}
}

func TestTLSRefusesCertificateFromAnotherCA(t *testing.T) {
	f := newFixture(t, nil)
	other := newTestPKI(t)
	foreign, err := other.ClientCert("alice") // right name, wrong CA
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.pki.ClientTLSConfig(foreign) // trusts the server's CA, presents the foreign cert
	cfg.ServerName = "127.0.0.1"
	err = handshakeErr(f.addr, cfg)
	if err == nil || !strings.Contains(err.Error(), "unknown certificate authority") {
		t.Fatalf("handshake with another CA's client certificate: err %v, want the server's unknown-CA alert", err)
	}
	f.waitLog(t, "certificate signed by unknown authority")
	if resp, err := tlsClient(t, f.pki.ClientTLSConfig(foreign)).Post(f.srv.URL+"/leases/lease-a/claim", "", nil); err == nil {
		resp.Body.Close()
		t.Fatalf("claim with another CA's certificate got status %d", resp.StatusCode)
	}
	if n := f.store.claimCount("lease-a"); n != 0 {
		t.Fatalf("lease-a claimed %d times with a foreign certificate", n)
	}

	// And the client trusts only its CA: a server certificate from another
	// CA is refused by the client.
	own, err := f.pki.ClientCert("alice")
	if err != nil {
		t.Fatal(err)
	}
	cfg = other.ClientTLSConfig(own) // trusts the other CA only
	cfg.ServerName = "127.0.0.1"
	if err := handshakeErr(f.addr, cfg); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("client trusting another CA: err %v, want unknown authority", err)
	}
}

func TestClaimOverMutualTLS(t *testing.T) {
	f := newFixture(t, nil)
	alice := f.client(t, "alice")

	first := claim(t, alice, f.srv.URL, "lease-a", nil)
	if first.status != http.StatusOK {
		t.Fatalf("first claim: %d %+v", first.status, first.err)
	}
	if cc := first.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("manifest response Cache-Control %q, want no-store", cc)
	}
	f.clock.advance(time.Minute)
	second := claim(t, alice, f.srv.URL, "lease-a", nil)
	if second.status != http.StatusOK {
		t.Fatalf("repeated claim: %d %+v", second.status, second.err)
	}
	jwks := fetchJWKS(t, alice, f.srv.URL)
	for i, tok := range []string{first.manifest, second.manifest} {
		m, err := Verify(tok, jwks, f.clock.now())
		if err != nil {
			t.Fatalf("claim %d: manifest does not verify with /jwks: %v", i+1, err)
		}
		want := f.store.leases["lease-a"]
		if m.LeaseID != "lease-a" || m.ClientID != "alice" || m.FederationID != want.FederationID ||
			m.ServerAddress != want.ServerAddress || !m.ExpiresAt.Equal(want.ExpiresAt) {
			t.Fatalf("claim %d: manifest %+v, want lease-a of alice expiring %s", i+1, m, want.ExpiresAt)
		}
	}
	if n := f.store.claimCount("lease-a"); n != 2 {
		t.Fatalf("store saw %d claims of lease-a, want 2", n)
	}

	f2 := func(lease string, status int, code string) {
		t.Helper()
		r := claim(t, alice, f.srv.URL, lease, nil)
		if r.status != status || r.err.Code != code || r.manifest != "" {
			t.Fatalf("claim %s: %d %+v, want %d %s", lease, r.status, r.err, status, code)
		}
	}
	f2("lease-b", http.StatusForbidden, "forbidden")
	f2("lease-nope", http.StatusNotFound, "not_found")
	f.clock.advance(time.Minute) // lease-expired lived 1m from the start
	f2("lease-expired", http.StatusGone, "lease_expired")
	if n := f.store.claimCount("lease-b"); n != 0 {
		t.Fatalf("bob's lease claimed %d times", n)
	}

	// Wrong method and unknown path: JSON errors too.
	resp, err := alice.Get(f.srv.URL + "/leases/lease-a/claim")
	if err != nil {
		t.Fatal(err)
	}
	var e Error
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || e.Code != "method_not_allowed" {
		t.Fatalf("GET claim: %d %+v", resp.StatusCode, e)
	}
	resp, err = alice.Get(f.srv.URL + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	e = Error{}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || e.Code != "not_found" {
		t.Fatalf("GET /admin: %d %+v", resp.StatusCode, e)
	}
}

// TestIdentityIsTheCertificateCN: headers that name another client change
// nothing; only the verified certificate's CN counts.
func TestIdentityIsTheCertificateCN(t *testing.T) {
	f := newFixture(t, nil)
	alice := f.client(t, "alice")
	spoof := map[string]string{
		"X-Client-ID":             "bob",
		"X-Client-CN":             "bob",
		"X-SSL-Client-S-DN":       "CN=bob",
		"X-Forwarded-Client-Cert": "Subject=\"CN=bob\"",
		"Authorization":           "Bearer bob",
	}
	if r := claim(t, alice, f.srv.URL, "lease-b", spoof); r.status != http.StatusForbidden {
		t.Fatalf("alice claiming bob's lease with bob's headers: %d, want 403", r.status)
	}
	r := claim(t, alice, f.srv.URL, "lease-a", spoof)
	if r.status != http.StatusOK {
		t.Fatalf("alice claiming her lease with bob's headers: %d %+v", r.status, r.err)
	}
	if m, err := Verify(r.manifest, f.signer.JWKS(), f.clock.now()); err != nil || m.ClientID != "alice" {
		t.Fatalf("manifest client %q (%v), want alice", m.ClientID, err)
	}
	if r := claim(t, f.client(t, "bob"), f.srv.URL, "lease-b", map[string]string{"X-Client-ID": "alice"}); r.status != http.StatusOK {
		t.Fatalf("bob claiming his lease: %d %+v", r.status, r.err)
	}

	// Without a verified chain the handler refuses, whatever the request says:
	// no TLS at all, or a peer certificate that was never verified.
	h := NewServer(f.store, f.signer)
	bob, err := f.pki.ClientCert("bob")
	if err != nil {
		t.Fatal(err)
	}
	for name, state := range map[string]*tls.ConnectionState{
		"plain HTTP with headers": nil,
		"unverified peer cert":    {HandshakeComplete: true, Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{bob.Leaf}},
	} {
		req := httptest.NewRequest(http.MethodPost, "/leases/lease-b/claim", nil)
		for k, v := range spoof {
			req.Header.Set(k, v)
		}
		req.TLS = state
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var e Error
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		if rec.Code != http.StatusUnauthorized || e.Code != "unauthenticated" {
			t.Fatalf("%s: %d %s, want 401 unauthenticated", name, rec.Code, rec.Body)
		}
	}
	if n := f.store.claimCount("lease-b"); n != 1 {
		t.Fatalf("lease-b claimed %d times, want 1 (bob's own)", n)
	}
}

// TestClaimManifestIsShortLived: a manifest lives at most the signer's ttl
// even when its lease lives longer; claiming again gives a fresh one.
func TestClaimManifestIsShortLived(t *testing.T) {
	f := newFixture(t, nil)
	alice := f.client(t, "alice")
	start := f.clock.now()
	r := claim(t, alice, f.srv.URL, "lease-long", nil)
	if r.status != http.StatusOK {
		t.Fatalf("claim: %d %+v", r.status, r.err)
	}
	cached := fetchJWKS(t, alice, f.srv.URL)
	m, err := Verify(r.manifest, cached, start)
	if err != nil {
		t.Fatal(err)
	}
	if !m.IssuedAt.Equal(start) || !m.ExpiresAt.Equal(start.Add(signerTTL)) {
		t.Fatalf("manifest issued %s expires %s, want %s and %s (capped at the ttl)", m.IssuedAt, m.ExpiresAt, start, start.Add(signerTTL))
	}
	f.clock.advance(signerTTL)
	// With the keys it fetched before, the client finds the manifest expired;
	// the server has dropped that key by now.
	if _, err := Verify(r.manifest, cached, f.clock.now()); !errors.Is(err, ErrExpired) {
		t.Fatalf("manifest after the ttl: err %v, want ErrExpired", err)
	}
	if _, err := Verify(r.manifest, fetchJWKS(t, alice, f.srv.URL), f.clock.now().Add(-time.Second)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("manifest after the ttl with fresh keys: err %v, want ErrUnknownKey", err)
	}
	r2 := claim(t, alice, f.srv.URL, "lease-long", nil)
	if r2.status != http.StatusOK {
		t.Fatalf("reclaim: %d %+v", r2.status, r2.err)
	}
	m2, err := Verify(r2.manifest, fetchJWKS(t, alice, f.srv.URL), f.clock.now())
	if err != nil {
		t.Fatalf("fresh manifest after rotation: %v", err)
	}
	if m2.LeaseID != "lease-long" || !m2.ExpiresAt.Equal(f.clock.now().Add(signerTTL)) {
		t.Fatalf("fresh manifest %+v", m2)
	}
	if header(t, r2.manifest)["kid"] == header(t, r.manifest)["kid"] {
		t.Fatal("the key was not rotated after its ttl")
	}
}

// TestClaimStoreFailures: a store that errs, or returns another client's
// manifest, yields a 500 without a manifest, and the log names ids only.
func TestClaimStoreFailures(t *testing.T) {
	var f *fixture
	f = newFixture(t, storeFunc(func(_ context.Context, leaseID, clientID string) (Manifest, error) {
		if leaseID == "lease-broken" {
			return Manifest{}, errors.New("connection refused")
		}
		m := f.store.leases["lease-b"] // bob's, whoever asks
		m.LeaseID = leaseID
		return m, nil
	}))
	alice := f.client(t, "alice")
	for _, lease := range []string{"lease-broken", "lease-a"} {
		r := claim(t, alice, f.srv.URL, lease, nil)
		if r.status != http.StatusInternalServerError || r.err.Code != "internal" || r.manifest != "" {
			t.Fatalf("%s: %d %+v", lease, r.status, r.err)
		}
	}
	logged := f.logged()
	for _, want := range []string{"lease-broken", "connection refused", "got_client_id=bob"} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
	if strings.Contains(logged, "eyJ") {
		t.Errorf("log holds something like a token:\n%s", logged)
	}
}
