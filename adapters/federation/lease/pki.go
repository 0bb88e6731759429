package lease

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// PKI is a small certificate authority for the runner channel: one CA
// (ECDSA P-256, which Python's ssl and gRPC load), a server certificate for
// the lease endpoint (or a Flower server) and one client certificate per
// client, whose CN is the client's identity.
//
// The CA key never leaves the PKI: WritePEM writes the CA certificate
// only, and the PKI formats as a summary (fmt, slog). Safe for concurrent
// use.
type PKI struct {
	validity time.Duration
	caKey    *ecdsa.PrivateKey
	caCert   *x509.Certificate
	caPEM    []byte

	mu      sync.Mutex
	server  *issued            // the latest ServerCert
	clients map[string]*issued // the latest ClientCert per client id
}

type issued struct {
	cert    tls.Certificate
	certPEM []byte
	keyPEM  []byte
}

// backdate is how far before now a certificate's validity starts, for
// peers whose clocks are a little behind.
const backdate = 5 * time.Minute

// NewPKI makes a CA named commonName whose certificate, like every
// certificate it issues, is valid for validity (> 0) from now.
func NewPKI(commonName string, validity time.Duration) (*PKI, error) {
	if commonName == "" {
		return nil, errors.New("new pki: common name required")
	}
	if validity <= 0 {
		return nil, fmt.Errorf("new pki: validity %v: must be > 0", validity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("new pki: generate CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := createCert(tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("new pki: CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("new pki: CA certificate: %w", err)
	}
	return &PKI{
		validity: validity,
		caKey:    key,
		caCert:   ca,
		caPEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		clients:  map[string]*issued{},
	}, nil
}

// createCert fills a random serial and the subject key id and signs.
func createCert(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(1)) // never 0
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	ski := sha256.Sum256(pubDER)
	tmpl.SubjectKeyId = ski[:20]
	return x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
}

// CACert is the CA certificate.
func (p *PKI) CACert() *x509.Certificate { return p.caCert }

// CAPool is a pool holding the CA certificate, for RootCAs and ClientCAs.
func (p *PKI) CAPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.caCert)
	return pool
}

// ServerCert issues a server certificate (server auth) for hosts: each is
// an IP address (an IP SAN) or a DNS name (a DNS SAN); the first is the
// CN. It becomes the certificate of ServerTLSConfig and WritePEM's
// server.pem.
func (p *PKI) ServerCert(hosts ...string) (tls.Certificate, error) {
	if len(hosts) == 0 {
		return tls.Certificate{}, errors.New("server certificate: at least one host required")
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: hosts[0]},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if h == "" {
			return tls.Certificate{}, errors.New("server certificate: empty host")
		}
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	is, err := p.issue(tmpl)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("server certificate %v: %w", hosts, err)
	}
	p.mu.Lock()
	p.server = is
	p.mu.Unlock()
	return is.cert, nil
}

// ClientCert issues a client certificate (client auth only) whose CN is
// clientID: the identity the lease server reads. clientID is 1 to 64 of
// [A-Za-z0-9._-], not starting with '.', since it also names files.
func (p *PKI) ClientCert(clientID string) (tls.Certificate, error) {
	if !ValidClientID(clientID) {
		return tls.Certificate{}, fmt.Errorf("client certificate: client id %q: want 1 to 64 of [A-Za-z0-9._-], not starting with '.'", clientID)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: clientID},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	is, err := p.issue(tmpl)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client certificate %q: %w", clientID, err)
	}
	p.mu.Lock()
	p.clients[clientID] = is
	p.mu.Unlock()
	return is.cert, nil
}

// ValidClientID reports whether id can be a client's identity: 1 to 64 of
// [A-Za-z0-9._-], not starting with '.'.
func ValidClientID(id string) bool {
	if len(id) == 0 || len(id) > 64 || id[0] == '.' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// issue makes a P-256 key and a leaf certificate for tmpl signed by the CA,
// valid for the PKI's validity but never past the CA's.
func (p *PKI) issue(tmpl *x509.Certificate) (*issued, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	now := time.Now()
	tmpl.NotBefore = now.Add(-backdate)
	tmpl.NotAfter = now.Add(p.validity)
	if tmpl.NotAfter.After(p.caCert.NotAfter) {
		tmpl.NotAfter = p.caCert.NotAfter
	}
	tmpl.BasicConstraintsValid = true
	der, err := createCert(tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &issued{
		cert:    tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// ServerTLSConfig is the server side of the runner channel: the latest
// ServerCert, TLS 1.3 at least, and a client certificate issued by this CA
// required and verified on every connection.
func (p *PKI) ServerTLSConfig() (*tls.Config, error) {
	p.mu.Lock()
	server := p.server
	p.mu.Unlock()
	if server == nil {
		return nil, errors.New("server tls config: no server certificate issued (call ServerCert)")
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{server.cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.CAPool(),
	}, nil
}

// ClientTLSConfig is the client side: present cert, trust only this CA,
// TLS 1.3 at least. The server name comes from the address dialed.
func (p *PKI) ClientTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		RootCAs:      p.CAPool(),
	}
}

// WritePEM writes, into dir (made 0700 if missing), ca.pem, server.pem and
// server.key (if a server certificate was issued) and client-<id>.pem and
// client-<id>.key per client: certificates 0644, keys 0600 (PKCS#8 PEM),
// each replaced atomically. The CA key is never written.
func (p *PKI) WritePEM(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write pem: %w", err)
	}
	type file struct {
		name string
		data []byte
		mode os.FileMode
	}
	files := []file{{"ca.pem", p.caPEM, 0o644}}
	p.mu.Lock()
	if p.server != nil {
		files = append(files, file{"server.pem", p.server.certPEM, 0o644}, file{"server.key", p.server.keyPEM, 0o600})
	}
	ids := make([]string, 0, len(p.clients))
	for id := range p.clients {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := p.clients[id]
		files = append(files, file{"client-" + id + ".pem", c.certPEM, 0o644}, file{"client-" + id + ".key", c.keyPEM, 0o600})
	}
	p.mu.Unlock()
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return fmt.Errorf("write pem %s: %w", f.name, err)
		}
	}
	return nil
}

// writeFileAtomic writes data to a temporary file created 0600 beside
// path, sets mode, syncs and renames it over path: a key is never readable
// by others, not even while it is being written.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	return nil
}

// String describes the PKI without its keys.
func (p *PKI) String() string {
	p.mu.Lock()
	n := len(p.clients)
	p.mu.Unlock()
	return fmt.Sprintf("lease.PKI{ca: %q, not_after: %s, clients: %d}", p.caCert.Subject.CommonName, p.caCert.NotAfter.UTC().Format(time.RFC3339), n)
}

// Format prints String for every verb, so no format can reach the CA key.
func (p *PKI) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.String())) }

// LogValue keeps the CA key out of slog output.
func (p *PKI) LogValue() slog.Value { return slog.StringValue(p.String()) }
