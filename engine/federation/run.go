package federation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"thunderline/adapters/federation/lease"
	"thunderline/adapters/flowerbridge"
	"thunderline/engine/config"
	"thunderline/engine/report"
	"thunderline/persist/artifacts"
	"thunderline/persist/postgres"
)

// Options configure a federation run (`thunderline federate`).
type Options struct {
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
	// DataDir confines the dataset URIs: each must name a regular file
	// under it (no .., no symbolic link out of it) [WorkDir]. "/" accepts
	// any path the process can read (an operator naming their own files).
	DataDir string
	// MaxDatasetBytes is the largest dataset file a site hashes and trains
	// on [1 GiB]; a larger one is refused before it is read.
	MaxDatasetBytes int64
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
	Metrics *Metrics
	// Tracer receives the round lifecycle spans (Tracer); nil: none.
	Tracer trace.Tracer
	// FederationID runs a federation already recorded (status created, as
	// POST /federations leaves it) instead of creating one.
	FederationID string
}

// DefaultMaxDatasetBytes is Options.MaxDatasetBytes's default: 1 GiB.
const DefaultMaxDatasetBytes = 1 << 30

// withDefaults fills the defaults of the fields left zero.
func (o Options) withDefaults() Options {
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
	if o.DataDir == "" {
		o.DataDir = o.WorkDir
	}
	if o.MaxDatasetBytes == 0 {
		o.MaxDatasetBytes = DefaultMaxDatasetBytes
	}
	if o.LR == 0 {
		o.LR = 0.1
	}
	if o.InDim == 0 {
		o.InDim = 16
	}
	if o.Tracer == nil {
		o.Tracer = noop.NewTracerProvider().Tracer("")
	}
	return o
}

// Round is one round as the control plane recorded it.
type Round struct {
	Num      int                `json:"round"`
	Metrics  map[string]float64 `json:"metrics"`
	Artifact artifacts.Artifact `json:"artifact"`
}

// Summary is the outcome of a federation.
type Summary struct {
	FederationID string             `json:"federation_id"`
	Status       string             `json:"status"`
	Rounds       []Round            `json:"rounds"`
	Joined       []string           `json:"joined"`
	Dropped      []string           `json:"dropped"`
	Final        artifacts.Artifact `json:"final"`
	Candidate    string             `json:"candidate_expert"`
	Elapsed      report.Seconds     `json:"elapsed_s"`
}

// run is one federation while it runs.
type run struct {
	o     Options
	spec  *config.FederationSpec
	fl    *postgres.FL
	fed   postgres.Federation
	sum   *Summary
	start time.Time
	span  trace.Span
	met   fedMetrics

	// The lease channel (sites.go).
	pki        *lease.PKI
	pkiDir     string
	clientIDs  []string
	leases     map[string]string // client → lease id
	store      *siteStore
	leaseURL   string
	hs         *http.Server
	flowerAddr string

	// The Flower deployment and its clients (rounds.go).
	events     chan flowerbridge.Event
	server     *flowerbridge.Process
	secaggData []string
	sliceBytes map[string]int64
	mu         sync.Mutex // clients, sum.Dropped
	clients    []*flowerbridge.Process
	finished   atomic.Bool // the server reported the federation complete: clients end now

	// The rounds as the server reports them (rounds.go).
	rounds     map[int]postgres.Round
	roundStart map[int]time.Time
	roundSpans map[int]trace.Span
	final      artifacts.Artifact
	finalID    string // its model_artifacts row
	completed  bool
}

// Run runs one federation end to end: the control plane records it in
// Postgres; each client's runner claims its lease over mutual TLS,
// verifies the signed manifest and its dataset's hash, and starts a Flower
// client on its own data; a Flower server aggregates with the spec's
// strategy; every round's checkpoint goes to the artifact store and is
// recorded with its sha256; the final model becomes a candidate expert in
// shadow mode (the experts registry, status "shadow").
func Run(ctx context.Context, o Options) (*Summary, error) {
	if o.Spec == nil || o.DSN == "" || o.WorkDir == "" {
		return nil, errors.New("federate: spec, dsn and work dir are required")
	}
	if o.MaxDatasetBytes < 0 {
		return nil, fmt.Errorf("federate: MaxDatasetBytes: %d is negative", o.MaxDatasetBytes)
	}
	o = o.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	start := time.Now()
	pool, err := open(ctx, &o)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	r, err := record(ctx, o, pool)
	if err != nil {
		return nil, err
	}
	r.start = start
	ctx, r.span = o.Tracer.Start(ctx, "federation", trace.WithAttributes(attribute.String("federation.id", r.fed.ID),
		attribute.String("federation.name", r.spec.Name), attribute.String("strategy", r.spec.Strategy.Kind),
		attribute.Int("rounds", r.spec.NumRounds), attribute.Int("sites", len(r.spec.DatasetSpec.URIs))))
	defer r.span.End()
	return r.run(ctx)
}

// open makes the work dir and the default artifact store, and connects to
// the control plane.
func open(ctx context.Context, o *Options) (*pgxpool.Pool, error) {
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
	if _, err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("federate: migrate: %w", err)
	}
	return pool, nil
}

// record creates the federation in the control plane (or reads the one
// o.FederationID names).
func record(ctx context.Context, o Options, pool *pgxpool.Pool) (*run, error) {
	fl, err := postgres.NewFL(pool, o.Tenant)
	if err != nil {
		return nil, err
	}
	var fed postgres.Federation
	if o.FederationID != "" {
		fed, err = fl.GetFederation(ctx, o.FederationID)
	} else {
		fed, err = fl.CreateFederation(ctx, postgres.FederationInput{Name: o.Spec.Name, SpecYAML: string(o.SpecYAML), CreatedBy: "thunderline federate"})
	}
	if err != nil {
		return nil, err
	}
	return &run{o: o, spec: o.Spec, fl: fl, fed: fed, sum: &Summary{FederationID: fed.ID}, met: fedMetrics{o.Metrics},
		sliceBytes: map[string]int64{}, rounds: map[int]postgres.Round{}, roundStart: map[int]time.Time{},
		roundSpans: map[int]trace.Span{}}, nil
}

// run takes the recorded federation through its phases; the first error
// fails it. The processes and servers it started are stopped at the end.
func (r *run) run(ctx context.Context) (*Summary, error) {
	defer r.stop()
	phases := []func(context.Context) error{r.begin, r.serveLeases, r.issueLeases, r.startServer, r.joinSites,
		r.startSecAgg, r.follow, r.finish}
	for _, phase := range phases {
		if err := phase(ctx); err != nil {
			return r.fail(err)
		}
	}
	r.sum.Status = "completed"
	r.sum.Elapsed = report.Seconds(time.Since(r.start))
	return r.sum, nil
}

// begin checks what the spec asks for and starts the federation.
func (r *run) begin(ctx context.Context) error {
	spec := r.spec
	if spec.SecureAgg && (spec.Strategy.Kind != config.StrategyFedAvg || spec.DP != nil) {
		return fmt.Errorf("secure_agg: the SecAgg+ deployment (adapters/flower/secagg) aggregates with FedAvg, without DP; spec asks for %s%s",
			spec.Strategy.Kind, map[bool]string{true: " with dp", false: ""}[spec.DP != nil])
	}
	_, err := r.fl.StartFederation(ctx, r.fed.ID)
	return err
}

// fail records the federation as failed, with cause.
func (r *run) fail(cause error) (*Summary, error) {
	r.span.RecordError(cause)
	r.span.SetStatus(codes.Error, cause.Error())
	r.fl.FailFederation(context.Background(), r.fed.ID, cause)
	r.sum.Status = "failed"
	r.sum.Elapsed = report.Seconds(time.Since(r.start))
	return r.sum, fmt.Errorf("federate: %w", cause)
}

// stop ends what the run started: the round spans left open, the clients,
// the Flower server and the lease endpoint.
func (r *run) stop() {
	for _, sp := range r.roundSpans {
		sp.End()
	}
	r.mu.Lock()
	clients := r.clients
	r.mu.Unlock()
	for _, p := range clients {
		p.Kill()
	}
	if r.server != nil {
		r.server.Kill()
	}
	if r.hs != nil {
		r.hs.Close()
	}
}

// finish waits for the server, completes the leases of the clients that
// stayed, registers the final model as a shadow candidate and completes
// the federation.
func (r *run) finish(ctx context.Context) error {
	if err := r.server.Wait(); err != nil || !r.completed {
		if err == nil {
			err = errors.New("the Flower server ended without completing the federation")
		}
		return err
	}
	for _, lid := range r.leases {
		if l, err := r.fl.GetLease(ctx, lid); err == nil && l.Status == postgres.LeaseJoined {
			r.fl.CompleteLease(ctx, lid)
		}
	}
	if r.final.URI != "" {
		x, err := r.fl.RegisterCandidate(ctx, r.fed.ID, r.finalID)
		if err != nil {
			return fmt.Errorf("register candidate expert: %w", err)
		}
		r.sum.Final, r.sum.Candidate = r.final, x.Name+"@"+x.Version
	}
	_, err := r.fl.CompleteFederation(ctx, r.fed.ID)
	return err
}
