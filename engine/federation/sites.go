package federation

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"thunderline/adapters/federation/lease"
	"thunderline/adapters/flowerbridge"
	"thunderline/adapters/inputfile"
	"thunderline/persist/postgres"
)

// The sites' side of a federation: the lease endpoint over mutual TLS,
// one lease per dataset, and each site's runner, which claims its lease,
// verifies the signed manifest and its data, joins and starts its Flower
// client.

// siteStore backs the lease endpoint with the control plane: a claim is
// FL.ClaimLease (idempotent), and the manifest names the client's own
// dataset, its hash and the Flower server.
type siteStore struct {
	fl      *postgres.FL
	byLease map[string]lease.Manifest
}

func (s *siteStore) Claim(ctx context.Context, leaseID, clientID string) (lease.Manifest, error) {
	m, ok := s.byLease[leaseID]
	if !ok {
		return lease.Manifest{}, lease.ErrLeaseNotFound
	}
	l, err := s.fl.ClaimLease(ctx, leaseID, clientID)
	switch {
	case errors.Is(err, postgres.ErrLeaseTaken):
		return lease.Manifest{}, lease.ErrLeaseForbidden
	case errors.Is(err, postgres.ErrLeaseExpired):
		return lease.Manifest{}, lease.ErrLeaseExpired
	case errors.Is(err, postgres.ErrNotFound):
		return lease.Manifest{}, lease.ErrLeaseNotFound
	case err != nil:
		return lease.Manifest{}, err
	}
	m.ExpiresAt = l.ExpiresAt
	return m, nil
}

// serveLeases makes the federation's PKI (the lease channel's, and its PEM
// files for the clients) and a short-lived manifest signer, picks the
// Flower server's address and serves the lease endpoint over mutual TLS.
func (r *run) serveLeases(context.Context) error {
	var err error
	if r.pki, err = lease.NewPKI("thunderline federation "+r.fed.ID, 24*time.Hour); err != nil {
		return err
	}
	r.pkiDir = filepath.Join(r.o.WorkDir, "pki")
	r.clientIDs = r.o.ClientIDs
	for i := len(r.clientIDs); i < len(r.spec.DatasetSpec.URIs); i++ {
		r.clientIDs = append(r.clientIDs, fmt.Sprintf("site-%d", i+1))
	}
	signer, err := lease.NewSigner(time.Duration(r.spec.Lease.TTL), nil)
	if err != nil {
		return err
	}
	if r.flowerAddr, err = freeAddr(); err != nil {
		return err
	}
	r.store = &siteStore{fl: r.fl, byLease: map[string]lease.Manifest{}}
	if _, err := r.pki.ServerCert("127.0.0.1", "localhost"); err != nil {
		return err
	}
	srvTLS, err := r.pki.ServerTLSConfig()
	if err != nil {
		return err
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvTLS)
	if err != nil {
		return err
	}
	r.hs = &http.Server{Handler: lease.NewServer(r.store, signer, lease.WithLogger(r.o.Logger)), ReadHeaderTimeout: 5 * time.Second}
	go r.hs.Serve(ln)
	r.leaseURL = "https://" + ln.Addr().String()
	return nil
}

// issueLeases issues one lease per dataset URI (the client's own data),
// then the sites' client certificates, and writes every PEM file: the
// Flower channel is mutual TLS too.
func (r *run) issueLeases(ctx context.Context) error {
	spec := r.spec
	expires := time.Now().Add(time.Duration(spec.Lease.TTL))
	r.leases = map[string]string{}
	for i, uri := range spec.DatasetSpec.URIs {
		cid := r.clientIDs[i]
		l, err := r.fl.IssueLease(ctx, r.fed.ID, cid, r.leaseURL+"/leases/{lease_id}/claim", expires, spec.Lease.EpochsMax, spec.Lease.TokensMax)
		if err != nil {
			return err
		}
		r.leases[cid] = l.ID
		r.store.byLease[l.ID] = lease.Manifest{FederationID: r.fed.ID, LeaseID: l.ID, ClientID: cid, Tenant: r.o.Tenant,
			ServerAddress: r.flowerAddr, Dataset: lease.Dataset{URIs: []string{uri}, Shards: 1, Hashes: []string{strings.ToLower(spec.DatasetSpec.Hashes[i])}},
			EpochsMax: int64(spec.Lease.EpochsMax), TokensMax: spec.Lease.TokensMax, Strategy: spec.Strategy.Kind}
	}
	for _, cid := range r.clientIDs {
		if _, err := r.pki.ClientCert(cid); err != nil {
			return err
		}
	}
	return r.pki.WritePEM(r.pkiDir)
}

// tlsFiles are the PEM files of the Flower channel's party name ("server",
// or "client-<id>").
func (r *run) tlsFiles(name string) *flowerbridge.TLSFiles {
	return &flowerbridge.TLSFiles{CA: filepath.Join(r.pkiDir, "ca.pem"), Cert: filepath.Join(r.pkiDir, name+".pem"),
		Key: filepath.Join(r.pkiDir, name+".key")}
}

// joinSites runs each site's runner: claim over mTLS, verify, check the
// data, join, and (without secure aggregation) start its Flower client.
func (r *run) joinSites(ctx context.Context) error {
	for _, cid := range r.clientIDs {
		if err := r.join(ctx, cid); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) join(ctx context.Context, cid string) error {
	_, claimSpan := r.o.Tracer.Start(ctx, "lease.claim", trace.WithAttributes(attribute.String("client", cid), attribute.String("lease.id", r.leases[cid])))
	m, err := claimAndVerify(ctx, r.pki, r.leaseURL, r.leases[cid], cid)
	claimSpan.End()
	if err != nil {
		r.met.join(false)
		return fmt.Errorf("client %s: %w", cid, err)
	}
	data, err := checkDataset(ctx, m, r.o)
	if err != nil {
		r.met.join(false)
		r.fl.DropClient(ctx, r.leases[cid], err.Error())
		return fmt.Errorf("client %s: %w", cid, err)
	}
	r.met.join(true)
	if st, err := os.Stat(data); err == nil {
		r.sliceBytes[cid] = st.Size()
	}
	if _, err := r.fl.JoinClient(ctx, r.leases[cid], cid); err != nil {
		return err
	}
	r.sum.Joined = append(r.sum.Joined, cid)
	if r.spec.SecureAgg {
		r.secaggData = append(r.secaggData, data)
		return nil
	}
	r.mu.Lock()
	seed := r.o.Seed + int64(len(r.clients))
	r.mu.Unlock()
	p, err := flowerbridge.StartClient(ctx, flowerbridge.ClientConfig{Python: r.o.Python, Script: filepath.Join(r.o.FlowerDir, "client.py"),
		Server: m.ServerAddress, Data: data, ClientID: cid, Epochs: r.spec.LocalEpochs, LR: r.o.LR, Seed: seed,
		DieInRound: r.o.DieInRound[cid], TLS: r.tlsFiles("client-" + cid)})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.clients = append(r.clients, p)
	r.mu.Unlock()
	go r.watch(ctx, cid, p)
	return nil
}

// watch records a client that died as dropped; the round goes on per the
// strategy's minimums.
func (r *run) watch(ctx context.Context, cid string, p *flowerbridge.Process) {
	if err := p.Wait(); err != nil && ctx.Err() == nil && !r.finished.Load() {
		r.fl.DropClient(context.Background(), r.leases[cid], "client process exited: "+firstLine(err.Error()))
		r.met.drop()
		r.span.AddEvent("client.dropped", trace.WithAttributes(attribute.String("client", cid)))
		r.mu.Lock()
		r.sum.Dropped = append(r.sum.Dropped, cid)
		r.mu.Unlock()
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// claimAndVerify is a site runner's pull: claim the lease over mutual TLS
// with the client's certificate, fetch the signer's keys, verify the JWS.
func claimAndVerify(ctx context.Context, pki *lease.PKI, base, leaseID, cid string) (lease.Manifest, error) {
	cert, err := pki.ClientCert(cid)
	if err != nil {
		return lease.Manifest{}, err
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLSConfig(cert)}, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/leases/"+url.PathEscape(leaseID)+"/claim", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return lease.Manifest{}, fmt.Errorf("claim: %w", err)
	}
	var claim struct {
		Manifest string `json:"manifest"`
		Message  string `json:"message"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&claim)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil {
		return lease.Manifest{}, fmt.Errorf("claim: status %d: %s", resp.StatusCode, claim.Message)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, base+"/jwks", nil)
	resp, err = hc.Do(req)
	if err != nil {
		return lease.Manifest{}, fmt.Errorf("jwks: %w", err)
	}
	var keys jose.JSONWebKeySet
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&keys)
	resp.Body.Close()
	if err != nil {
		return lease.Manifest{}, fmt.Errorf("jwks: %w", err)
	}
	m, err := lease.Verify(claim.Manifest, keys, time.Now())
	if err != nil {
		return lease.Manifest{}, fmt.Errorf("manifest: %w", err)
	}
	if m.ClientID != cid || m.LeaseID != leaseID {
		return lease.Manifest{}, fmt.Errorf("manifest for %s/%s, want %s/%s", m.ClientID, m.LeaseID, cid, leaseID)
	}
	return m, nil
}

// checkDataset resolves the manifest's dataset to a local file and checks
// its sha256: a site trains only on the data the manifest names. The file
// must be a regular file under o.DataDir and at most o.MaxDatasetBytes
// (refused before it is opened: file:///dev/zero or a FIFO cannot hold a
// core or block), hashing stops when ctx ends, and a mismatch says so
// without the hash (which would reveal a digest of any readable file).
func checkDataset(ctx context.Context, m lease.Manifest, o Options) (string, error) {
	if len(m.Dataset.URIs) != 1 || len(m.Dataset.Hashes) != 1 {
		return "", fmt.Errorf("manifest dataset: want one uri and its hash")
	}
	u, err := url.Parse(m.Dataset.URIs[0])
	if err != nil || (u.Scheme != "file" && u.Scheme != "") || u.Path == "" {
		return "", fmt.Errorf("manifest dataset %q: want a file:// uri of the site's slice", m.Dataset.URIs[0])
	}
	path := u.Path
	f, _, err := inputfile.Open(path, inputfile.Options{Dir: o.DataDir, MaxBytes: o.MaxDatasetBytes, What: "dataset"})
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum, err := hashFile(ctx, io.LimitReader(f, o.MaxDatasetBytes+1))
	if err != nil {
		return "", fmt.Errorf("dataset %s: %w", path, err)
	}
	if got := hex.EncodeToString(sum); got != m.Dataset.Hashes[0] {
		return "", fmt.Errorf("dataset %s: its sha256 is not the one the manifest names", path)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(o.DataDir, path)
	}
	return path, nil
}

// hashFile hashes r chunk by chunk, stopping when ctx ends.
func hashFile(ctx context.Context, r io.Reader) ([]byte, error) {
	h := sha256.New()
	buf := make([]byte, 1<<16)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return h.Sum(nil), nil
		}
		if err != nil {
			return nil, err
		}
	}
}
