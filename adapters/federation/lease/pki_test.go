package lease

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func newTestPKI(t testing.TB) *PKI {
	t.Helper()
	p, err := NewPKI("thunderline test CA", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPKICertificates(t *testing.T) {
	p := newTestPKI(t)
	if ca := p.CACert(); !ca.IsCA || !ca.MaxPathLenZero || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("CA: IsCA %v MaxPathLenZero %v usage %v", ca.IsCA, ca.MaxPathLenZero, ca.KeyUsage)
	}
	srv, err := p.ServerCert("127.0.0.1", "localhost", "::1")
	if err != nil {
		t.Fatal(err)
	}
	leaf := srv.Leaf
	if !slices.Equal(leaf.DNSNames, []string{"localhost"}) || len(leaf.IPAddresses) != 2 ||
		!leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || !leaf.IPAddresses[1].Equal(net.ParseIP("::1")) {
		t.Fatalf("server SANs: dns %v ip %v", leaf.DNSNames, leaf.IPAddresses)
	}
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: p.CAPool()}); err != nil {
			t.Errorf("server cert for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "evil.example", Roots: p.CAPool()}); err == nil {
		t.Error("server cert verified for a host it does not name")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: p.CAPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("server cert usable as a client cert")
	}

	cl, err := p.ClientCert("alice")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Leaf.Subject.CommonName != "alice" || !slices.Equal(cl.Leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Fatalf("client cert: CN %q EKU %v", cl.Leaf.Subject.CommonName, cl.Leaf.ExtKeyUsage)
	}
	if _, err := cl.Leaf.Verify(x509.VerifyOptions{Roots: p.CAPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("client cert does not verify for client auth: %v", err)
	}
	if _, err := cl.Leaf.Verify(x509.VerifyOptions{Roots: p.CAPool()}); err == nil {
		t.Error("client cert usable as a server cert")
	}
	if cl.Leaf.NotAfter.After(p.CACert().NotAfter) {
		t.Error("client cert outlives the CA")
	}
	if _, ok := cl.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("client key is %T, want ECDSA", cl.PrivateKey)
	}
	for _, bad := range []string{"", "../etc", ".hidden", "a/b", "a b", strings.Repeat("x", 65)} {
		if _, err := p.ClientCert(bad); err == nil {
			t.Errorf("ClientCert(%q) succeeded", bad)
		}
	}
	if _, err := p.ServerCert(); err == nil {
		t.Error("ServerCert() with no host succeeded")
	}

	cfg, err := p.ServerTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.MinVersion != tls.VersionTLS13 || cfg.ClientCAs == nil {
		t.Fatalf("server config: auth %v min %x", cfg.ClientAuth, cfg.MinVersion)
	}
	if cc := p.ClientTLSConfig(cl); cc.MinVersion != tls.VersionTLS13 || cc.RootCAs == nil || len(cc.Certificates) != 1 || cc.InsecureSkipVerify {
		t.Fatalf("client config: %+v", cc)
	}
	if _, err := newTestPKI(t).ServerTLSConfig(); err == nil {
		t.Error("ServerTLSConfig without a server cert succeeded")
	}
}

func TestWritePEM(t *testing.T) {
	p := newTestPKI(t)
	if _, err := p.ServerCert("127.0.0.1", "localhost"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"alice", "bob"} {
		if _, err := p.ClientCert(id); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "tls")
	if err := p.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"ca.pem", "client-alice.key", "client-alice.pem", "client-bob.key", "client-bob.pem", "server.key", "server.pem"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		wantMode := os.FileMode(0o644)
		if strings.HasSuffix(n, ".key") {
			wantMode = 0o600
		}
		if st.Mode().Perm() != wantMode {
			t.Errorf("%s: mode %v, want %v", n, st.Mode().Perm(), wantMode)
		}
	}
	// The files load as a Python client would use them: CA bundle + key pair.
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) || bytes.Contains(caPEM, []byte("PRIVATE KEY")) {
		t.Fatalf("ca.pem: not one certificate and nothing else:\n%s", caPEM)
	}
	if rest := pemBlocks(caPEM); rest != 1 {
		t.Fatalf("ca.pem has %d blocks, want 1", rest)
	}
	for _, pair := range [][2]string{{"server.pem", "server.key"}, {"client-alice.pem", "client-alice.key"}} {
		kp, err := tls.LoadX509KeyPair(filepath.Join(dir, pair[0]), filepath.Join(dir, pair[1]))
		if err != nil {
			t.Fatalf("%v: %v", pair, err)
		}
		leaf, _ := x509.ParseCertificate(kp.Certificate[0])
		usage := x509.ExtKeyUsageServerAuth
		if strings.HasPrefix(pair[0], "client-") {
			usage = x509.ExtKeyUsageClientAuth
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Fatalf("%s does not chain to ca.pem: %v", pair[0], err)
		}
	}
	// Writing again replaces the files in place.
	if _, err := p.ClientCert("alice"); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "client-alice.pem"))
	if err := p.WritePEM(dir); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "client-alice.pem"))
	if bytes.Equal(before, after) {
		t.Fatal("WritePEM did not replace client-alice.pem with the new certificate")
	}
	if entries2, _ := os.ReadDir(dir); len(entries2) != len(want) {
		t.Fatalf("%d files after rewrite (temporary files left?), want %d", len(entries2), len(want))
	}
}

func pemBlocks(b []byte) int {
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return n
		}
		n++
	}
}

func TestPKINeverFormatsKeys(t *testing.T) {
	p := newTestPKI(t)
	raw, err := p.caKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d := new(big.Int).SetBytes(raw) // the private scalar
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("pki", "pki", p)
	out := fmt.Sprintf("%v %+v %#v %s %d", p, p, p, p, p) + logged.String()
	if strings.Contains(out, d.Text(16)) || strings.Contains(out, d.String()) {
		t.Fatalf("formatted PKI shows the CA key: %s", out)
	}
	if !strings.Contains(out, "thunderline test CA") {
		t.Fatalf("formatted PKI lacks its name: %s", out)
	}
}
