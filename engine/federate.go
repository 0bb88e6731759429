package engine

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"thunderline/adapters/federation/lease"
	"thunderline/adapters/flowerbridge"
	"thunderline/engine/config"
	"thunderline/persist/artifacts"
	"thunderline/persist/postgres"
)

// FederateOptions configure a federation run (`thunderline federate`).
type FederateOptions struct {
	Spec     *config.FederationSpec
	SpecYAML []byte
	// DSN of the control plane's Postgres (federations, rounds, leases,
	// artifacts, rollups, outbox). Required.
	DSN    string
	Tenant string // [default]
	// Store receives the round checkpoints. Default: a filesystem store
	// under WorkDir/artifacts.
	Store artifacts.Store
	// WorkDir holds the PKI, the server's checkpoints and the clients'
	// scratch. Required.
	WorkDir string
	// Python and FlowerDir locate the Flower apps (adapters/flower).
	Python, FlowerDir string
	// ClientIDs name the clients, one per dataset URI [site-1, site-2, ...].
	ClientIDs []string
	// DieInRound makes client i exit abruptly during round DieInRound[i]
	// (fault drills; 0: never).
	DieInRound map[string]int
	// InDim is the model's input width: the router's embed_dim, which the
	// exported slices' features have [16, the default router's].
	InDim int
	// LR, Seed tune the clients' SGD.
	LR   float64
	Seed int64
	// Timeout bounds the whole federation [10m].
	Timeout time.Duration
	Logger  *slog.Logger
	// OnEvent sees every Flower lifecycle event.
	OnEvent func(flowerbridge.Event)
	// Metrics, when set, receives the federation SLO metrics.
	Metrics *FederationMetrics
	// Tracer receives the round lifecycle spans (FederationTracer); nil:
	// none.
	Tracer trace.Tracer
	// FederationID runs a federation already recorded (status created, as
	// POST /federations leaves it) instead of creating one.
	FederationID string
}

// FederationRound is one round as the control plane recorded it.
type FederationRound struct {
	Num      int                `json:"round"`
	Metrics  map[string]float64 `json:"metrics"`
	Artifact artifacts.Artifact `json:"artifact"`
}

// FederationSummary is the outcome of a federation.
type FederationSummary struct {
	FederationID string             `json:"federation_id"`
	Status       string             `json:"status"`
	Rounds       []FederationRound  `json:"rounds"`
	Joined       []string           `json:"joined"`
	Dropped      []string           `json:"dropped"`
	Final        artifacts.Artifact `json:"final"`
	Candidate    string             `json:"candidate_expert"`
	Elapsed      Seconds            `json:"elapsed_s"`
}

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

// RunFederation runs one federation end to end: the control plane records
// it in Postgres; each client's runner claims its lease over mutual TLS,
// verifies the signed manifest and its dataset's hash, and starts a Flower
// client on its own data; a Flower server aggregates with the spec's
// strategy; every round's checkpoint goes to the artifact store and is
// recorded with its sha256; the final model becomes a candidate expert in
// shadow mode (the experts registry, status "shadow").
func RunFederation(ctx context.Context, o FederateOptions) (*FederationSummary, error) {
	spec := o.Spec
	if spec == nil || o.DSN == "" || o.WorkDir == "" {
		return nil, errors.New("federate: spec, dsn and work dir are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Tenant == "" {
		o.Tenant = "default"
	}
	if o.Python == "" {
		o.Python = "python3"
	}
	if o.FlowerDir == "" {
		o.FlowerDir = "adapters/flower"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.LR == 0 {
		o.LR = 0.1
	}
	if o.InDim == 0 {
		o.InDim = 16
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, err
	}
	if o.Store == nil {
		fs, err := artifacts.NewFS(filepath.Join(o.WorkDir, "artifacts"))
		if err != nil {
			return nil, err
		}
		o.Store = fs
	}
	pool, err := pgxpool.New(ctx, o.DSN)
	if err != nil {
		return nil, fmt.Errorf("federate: postgres: %w", err)
	}
	defer pool.Close()
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		return nil, fmt.Errorf("federate: migrate: %w", err)
	}
	fl, err := postgres.NewFL(pool, o.Tenant)
	if err != nil {
		return nil, err
	}
	var fed postgres.Federation
	if o.FederationID != "" {
		fed, err = fl.GetFederation(ctx, o.FederationID)
	} else {
		fed, err = fl.CreateFederation(ctx, postgres.FederationInput{Name: spec.Name, SpecYAML: string(o.SpecYAML), CreatedBy: "thunderline federate"})
	}
	if err != nil {
		return nil, err
	}
	sum := &FederationSummary{FederationID: fed.ID}
	if o.Tracer == nil {
		o.Tracer = noop.NewTracerProvider().Tracer("")
	}
	ctx, fedSpan := o.Tracer.Start(ctx, "federation", trace.WithAttributes(attribute.String("federation.id", fed.ID),
		attribute.String("federation.name", spec.Name), attribute.String("strategy", spec.Strategy.Kind),
		attribute.Int("rounds", spec.NumRounds), attribute.Int("sites", len(spec.DatasetSpec.URIs))))
	defer fedSpan.End()
	fail := func(cause error) (*FederationSummary, error) {
		fedSpan.RecordError(cause)
		fedSpan.SetStatus(codes.Error, cause.Error())
		fl.FailFederation(context.Background(), fed.ID, cause)
		sum.Status = "failed"
		sum.Elapsed = Seconds(time.Since(start))
		return sum, fmt.Errorf("federate: %w", cause)
	}
	if spec.SecureAgg && (spec.Strategy.Kind != config.StrategyFedAvg || spec.DP != nil) {
		return fail(fmt.Errorf("secure_agg: the SecAgg+ deployment (adapters/flower/secagg) aggregates with FedAvg, without DP; spec asks for %s%s",
			spec.Strategy.Kind, map[bool]string{true: " with dp", false: ""}[spec.DP != nil]))
	}
	if _, err := fl.StartFederation(ctx, fed.ID); err != nil {
		return fail(err)
	}

	// Transport security: a PKI for the lease channel (and its PEM files
	// for the clients), a short-lived manifest signer.
	pki, err := lease.NewPKI("thunderline federation "+fed.ID, 24*time.Hour)
	if err != nil {
		return fail(err)
	}
	pkiDir := filepath.Join(o.WorkDir, "pki")
	clientIDs := o.ClientIDs
	for i := len(clientIDs); i < len(spec.DatasetSpec.URIs); i++ {
		clientIDs = append(clientIDs, fmt.Sprintf("site-%d", i+1))
	}
	signer, err := lease.NewSigner(time.Duration(spec.Lease.TTL), nil)
	if err != nil {
		return fail(err)
	}
	flowerAddr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	store := &siteStore{fl: fl, byLease: map[string]lease.Manifest{}}
	if _, err := pki.ServerCert("127.0.0.1", "localhost"); err != nil {
		return fail(err)
	}
	srvTLS, err := pki.ServerTLSConfig()
	if err != nil {
		return fail(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srvTLS)
	if err != nil {
		return fail(err)
	}
	hs := &http.Server{Handler: lease.NewServer(store, signer, lease.WithLogger(o.Logger)), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	leaseURL := "https://" + ln.Addr().String()

	// Leases: one per dataset URI, the client's own data.
	expires := time.Now().Add(time.Duration(spec.Lease.TTL))
	leases := map[string]string{} // client → lease id
	for i, uri := range spec.DatasetSpec.URIs {
		cid := clientIDs[i]
		l, err := fl.IssueLease(ctx, fed.ID, cid, leaseURL+"/leases/{lease_id}/claim", expires, spec.Lease.EpochsMax, spec.Lease.TokensMax)
		if err != nil {
			return fail(err)
		}
		leases[cid] = l.ID
		store.byLease[l.ID] = lease.Manifest{FederationID: fed.ID, LeaseID: l.ID, ClientID: cid, Tenant: o.Tenant,
			ServerAddress: flowerAddr, Dataset: lease.Dataset{URIs: []string{uri}, Shards: 1, Hashes: []string{strings.ToLower(spec.DatasetSpec.Hashes[i])}},
			EpochsMax: int64(spec.Lease.EpochsMax), TokensMax: spec.Lease.TokensMax, Strategy: spec.Strategy.Kind}
	}

	// The sites' client certificates, then every PEM file: the Flower
	// channel is mutual TLS too.
	for _, cid := range clientIDs {
		if _, err := pki.ClientCert(cid); err != nil {
			return fail(err)
		}
	}
	if err := pki.WritePEM(pkiDir); err != nil {
		return fail(err)
	}
	// The Flower server, with the spec's strategy.
	outDir := filepath.Join(o.WorkDir, "server")
	sc := flowerbridge.ServerConfig{Python: o.Python, Script: filepath.Join(o.FlowerDir, "server.py"), Address: flowerAddr,
		Rounds: spec.NumRounds, MinClients: spec.MinClients, Fraction: spec.ClientFraction, Strategy: spec.Strategy.Kind, OutDir: outDir,
		SecureAgg: spec.SecureAgg, InDim: o.InDim, StartClients: len(clientIDs),
		TLS: &flowerbridge.TLSFiles{CA: filepath.Join(pkiDir, "ca.pem"), Cert: filepath.Join(pkiDir, "server.pem"), Key: filepath.Join(pkiDir, "server.key")}}
	if p := spec.Strategy.Params.Mu; p != nil {
		sc.Mu = *p
	}
	if p := spec.Strategy.Params.HalfLifeRounds; p != nil {
		sc.HalfLife = *p
	}
	if spec.DP != nil {
		sc.DPEpsilon, sc.DPDelta, sc.DPClip = spec.DP.Epsilon, spec.DP.Delta, spec.DP.ClipNorm
	}
	events := make(chan flowerbridge.Event, 64)
	// Secure aggregation runs as Flower's SuperLink deployment with a
	// SuperNode per verified site (adapters/flower/secagg), started once
	// every site has joined; otherwise the server starts now.
	var server *flowerbridge.Process
	if !spec.SecureAgg {
		if server, err = flowerbridge.StartServer(ctx, sc, events); err != nil {
			return fail(err)
		}
	}
	defer func() {
		if server != nil {
			server.Kill()
		}
	}()
	var secaggData []string

	// The sites' runners: claim over mTLS, verify, check the data, join.
	var mu sync.Mutex
	var clients []*flowerbridge.Process
	var finished atomic.Bool // the server reported the federation complete: clients end now
	met := fedMetrics{o.Metrics}
	sliceBytes := map[string]int64{}
	clientErr := make(chan error, len(clientIDs))
	for _, cid := range clientIDs {
		_, claimSpan := o.Tracer.Start(ctx, "lease.claim", trace.WithAttributes(attribute.String("client", cid), attribute.String("lease.id", leases[cid])))
		m, err := claimAndVerify(ctx, pki, leaseURL, leases[cid], cid)
		claimSpan.End()
		if err != nil {
			met.join(false)
			return fail(fmt.Errorf("client %s: %w", cid, err))
		}
		data, err := checkDataset(m)
		if err != nil {
			met.join(false)
			fl.DropClient(ctx, leases[cid], err.Error())
			return fail(fmt.Errorf("client %s: %w", cid, err))
		}
		met.join(true)
		if st, err := os.Stat(data); err == nil {
			sliceBytes[cid] = st.Size()
		}
		if _, err := fl.JoinClient(ctx, leases[cid], cid); err != nil {
			return fail(err)
		}
		sum.Joined = append(sum.Joined, cid)
		if spec.SecureAgg {
			secaggData = append(secaggData, data)
			continue
		}
		p, err := flowerbridge.StartClient(ctx, flowerbridge.ClientConfig{Python: o.Python, Script: filepath.Join(o.FlowerDir, "client.py"),
			Server: m.ServerAddress, Data: data, ClientID: cid, Epochs: spec.LocalEpochs, LR: o.LR, Seed: o.Seed + int64(len(clients)),
			DieInRound: o.DieInRound[cid],
			TLS: &flowerbridge.TLSFiles{CA: filepath.Join(pkiDir, "ca.pem"), Cert: filepath.Join(pkiDir, "client-"+cid+".pem"),
				Key: filepath.Join(pkiDir, "client-"+cid+".key")}})
		if err != nil {
			return fail(err)
		}
		mu.Lock()
		clients = append(clients, p)
		mu.Unlock()
		go func(cid string, p *flowerbridge.Process) {
			if err := p.Wait(); err != nil && ctx.Err() == nil && !finished.Load() {
				// A client that died is recorded as dropped; the round
				// goes on per the strategy's minimums.
				fl.DropClient(context.Background(), leases[cid], "client process exited: "+firstLine(err.Error()))
				met.drop()
				fedSpan.AddEvent("client.dropped", trace.WithAttributes(attribute.String("client", cid)))
				mu.Lock()
				sum.Dropped = append(sum.Dropped, cid)
				mu.Unlock()
				clientErr <- err
			}
		}(cid, p)
	}
	defer func() {
		for _, p := range clients {
			p.Kill()
		}
	}()

	if spec.SecureAgg {
		if server, err = flowerbridge.StartSecAgg(ctx, flowerbridge.SecAggConfig{Python: o.Python,
			Script: filepath.Join(o.FlowerDir, "secagg", "run.py"), Rounds: spec.NumRounds, MinClients: spec.MinClients,
			OutDir: outDir, Data: secaggData, ClientIDs: clientIDs, InDim: o.InDim, Seed: o.Seed, LR: o.LR, Epochs: spec.LocalEpochs}, events); err != nil {
			return fail(err)
		}
	}
	// The federation's lifecycle as the server reports it.
	rounds := map[int]postgres.Round{}
	roundStart := map[int]time.Time{}
	roundSpans := map[int]trace.Span{}
	defer func() {
		for _, sp := range roundSpans {
			sp.End()
		}
	}()
	var final artifacts.Artifact
	completed := false
	for ev := range events {
		if o.OnEvent != nil {
			o.OnEvent(ev)
		}
		switch ev.Event {
		case "round.started":
			r, err := fl.StartRound(ctx, fed.ID, ev.Round)
			if err != nil {
				return fail(err)
			}
			rounds[ev.Round] = r
			roundStart[ev.Round] = time.Now()
			_, roundSpans[ev.Round] = o.Tracer.Start(ctx, "round", trace.WithAttributes(attribute.Int("round", ev.Round), attribute.String("round.id", r.ID)))
		case "round.completed":
			ended := time.Now()
			r, ok := rounds[ev.Round]
			if !ok {
				return fail(fmt.Errorf("round %d completed before it started", ev.Round))
			}
			fr := FederationRound{Num: ev.Round, Metrics: ev.Metrics}
			if ev.Artifact != nil {
				_, artSpan := o.Tracer.Start(ctx, "artifact.store", trace.WithAttributes(attribute.Int("round", ev.Round)))
				a, err := storeCheckpoint(ctx, o.Store, ev.Artifact)
				if err == nil {
					_, err = fl.RecordArtifact(ctx, fed.ID, r.ID, a.URI, a.SHA256[:], a.Size, "safetensors")
				}
				met.artifact(err == nil, time.Since(ended))
				artSpan.SetAttributes(attribute.String("uri", a.URI), attribute.String("sha256", a.Hex()))
				artSpan.End()
				if err != nil {
					return fail(err)
				}
				fr.Artifact, final = a, a
			}
			if sp := roundSpans[ev.Round]; sp != nil {
				for k, v := range ev.Metrics {
					sp.SetAttributes(attribute.Float64("metric."+k, v))
				}
				sp.End()
				delete(roundSpans, ev.Round)
			}
			mu.Lock()
			dropped := append([]string(nil), sum.Dropped...)
			mu.Unlock()
			met.round(ended.Sub(roundStart[ev.Round]), ev.Metrics["examples"], sliceBytes, dropped)
			metrics, _ := json.Marshal(ev.Metrics)
			if _, err := fl.CompleteRound(ctx, r.ID, metrics); err != nil {
				return fail(err)
			}
			sum.Rounds = append(sum.Rounds, fr)
		case "aggregate.completed":
			if r, ok := rounds[ev.Round]; ok {
				agg, _ := json.Marshal(ev.Metrics)
				if _, err := fl.RecordAggregate(ctx, r.ID, agg); err != nil {
					return fail(err)
				}
			}
		case "federation.completed":
			completed = true
			finished.Store(true)
		}
	}
	if err := server.Wait(); err != nil || !completed {
		if err == nil {
			err = errors.New("the Flower server ended without completing the federation")
		}
		return fail(err)
	}
	for _, lid := range leases {
		if l, err := fl.GetLease(ctx, lid); err == nil && l.Status == postgres.LeaseJoined {
			fl.CompleteLease(ctx, lid)
		}
	}
	if final.URI != "" {
		name, err := registerCandidate(ctx, pool, fed, final)
		if err != nil {
			return fail(err)
		}
		sum.Final, sum.Candidate = final, name
	}
	if _, err := fl.CompleteFederation(ctx, fed.ID); err != nil {
		return fail(err)
	}
	sum.Status = "completed"
	sum.Elapsed = Seconds(time.Since(start))
	return sum, nil
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
// its sha256: a site trains only on the data the manifest names.
func checkDataset(m lease.Manifest) (string, error) {
	if len(m.Dataset.URIs) != 1 || len(m.Dataset.Hashes) != 1 {
		return "", fmt.Errorf("manifest dataset: want one uri and its hash")
	}
	u, err := url.Parse(m.Dataset.URIs[0])
	if err != nil || (u.Scheme != "file" && u.Scheme != "") {
		return "", fmt.Errorf("manifest dataset %q: want a file:// uri of the site's slice", m.Dataset.URIs[0])
	}
	path := u.Path
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("dataset: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != m.Dataset.Hashes[0] {
		return "", fmt.Errorf("dataset %s: sha256 %s, the manifest says %s", path, got, m.Dataset.Hashes[0])
	}
	return path, nil
}

// storeCheckpoint puts a round's checkpoint into the artifact store and
// checks it against the sha256 the server reported.
func storeCheckpoint(ctx context.Context, st artifacts.Store, ref *flowerbridge.ArtifactRef) (artifacts.Artifact, error) {
	f, err := os.Open(ref.Path)
	if err != nil {
		return artifacts.Artifact{}, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	a, err := st.Put(ctx, f, "safetensors")
	if err != nil {
		return a, fmt.Errorf("checkpoint: %w", err)
	}
	if a.Hex() != strings.ToLower(ref.SHA256) {
		return a, fmt.Errorf("checkpoint %s: stored sha256 %s, the server reported %s", ref.Path, a.Hex(), ref.SHA256)
	}
	return a, nil
}

// registerCandidate records the final model as a candidate expert in
// shadow mode: it may run beside the router and be traced, never vote,
// until promoted.
func registerCandidate(ctx context.Context, pool *pgxpool.Pool, fed postgres.Federation, a artifacts.Artifact) (string, error) {
	name := "fl-" + fed.Name
	id := window16(sha256.Sum256([]byte(fed.ID + "/" + a.Hex())))
	_, err := pool.Exec(ctx, `INSERT INTO experts (id, name, version, status, latency_budget_ms, metrics, model_artifact_ref)
		VALUES ($1, $2, $3, 'shadow', 5, jsonb_build_object('federation_id', $4::text, 'sha256', $5::text), $6)
		ON CONFLICT (name, version) DO NOTHING`, id, name, fed.ID, fed.ID, a.Hex(), a.URI)
	if err != nil {
		return "", fmt.Errorf("register candidate expert: %w", err)
	}
	return name + "@" + fed.ID, nil
}

func window16(h [32]byte) [16]byte {
	var id [16]byte
	copy(id[:], h[:16])
	id[6] = id[6]&0x0f | 0x80
	id[8] = id[8]&0x3f | 0x80
	return id
}
