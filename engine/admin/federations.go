package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"thunderline/actors/eye"
	"thunderline/engine/config"
	"thunderline/engine/federation"
	"thunderline/persist/postgres"
)

// federations is the admin backend's control plane: a pool on the
// profile's Postgres, opened on first use.
type federations struct {
	mu   sync.Mutex
	pool *pgxpool.Pool
	// FlowerDir and Python for federations started over HTTP
	// [adapters/flower, python3].
	FlowerDir, Python string
	Metrics           *federation.Metrics
	runs              sync.WaitGroup
}

func (a *Admin) control(ctx context.Context) (*postgres.FL, error) {
	f := &a.fed
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pool == nil {
		dsn := a.p.Profile().PostgresDSN(os.Getenv)
		if dsn == "" {
			return nil, fmt.Errorf("%w: federations need the Postgres control plane: set postgres.dsn or THUNDERLINE_PG_DSN", eye.ErrUnavailable)
		}
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("%w: postgres: %v", eye.ErrUnavailable, err)
		}
		if _, err := postgres.Migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, fmt.Errorf("%w: migrate: %v", eye.ErrUnavailable, err)
		}
		f.pool = pool
	}
	return postgres.NewFL(f.pool, a.p.Profile().TenantName())
}

// Federations implements eye.FederationBackend.
func (a *Admin) Federations(ctx context.Context) (any, error) {
	fl, err := a.control(ctx)
	if err != nil {
		return nil, err
	}
	return fl.ListFederations(ctx)
}

// Federation implements eye.FederationBackend.
func (a *Admin) Federation(ctx context.Context, id string) (any, error) {
	fl, err := a.control(ctx)
	if err != nil {
		return nil, err
	}
	fed, err := fl.GetFederation(ctx, id)
	if errors.Is(err, postgres.ErrNotFound) {
		return nil, fmt.Errorf("%w: federation %s", eye.ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	rounds, err1 := fl.ListRounds(ctx, id)
	leases, err2 := fl.ListLeases(ctx, id)
	arts, err3 := fl.ListArtifacts(ctx, id)
	rollups, err4 := fl.ListRollups(ctx, id)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	return map[string]any{"federation": fed, "rounds": rounds, "leases": leases, "artifacts": arts, "rollups": rollups}, nil
}

// CreateFederation implements eye.FederationBackend: the spec is validated
// (a *eye.ConfigError naming the field), recorded, and the federation runs
// in the background, its work under the journal root.
func (a *Admin) CreateFederation(ctx context.Context, specYAML []byte) (string, error) {
	spec, err := config.ParseFederationSpec(specYAML, "request")
	if err != nil {
		return "", err // a *spec.FieldError naming the field: eye answers invalid_config
	}
	fl, err := a.control(ctx)
	if err != nil {
		return "", err
	}
	fed, err := fl.CreateFederation(ctx, postgres.FederationInput{Name: spec.Name, SpecYAML: string(specYAML), CreatedBy: "admin http"})
	if err != nil {
		return "", err
	}
	prof := a.p.Profile()
	o := federation.Options{Spec: spec, SpecYAML: specYAML, DSN: prof.PostgresDSN(os.Getenv), Tenant: prof.TenantName(),
		// Datasets must be regular files under the journal root (where
		// `thunderline export` slices of this engine's runs belong).
		WorkDir: filepath.Join(prof.JournalRoot(), "federations", fed.ID), DataDir: prof.JournalRoot(), Python: a.fed.Python, FlowerDir: a.fed.FlowerDir,
		Metrics: a.fed.Metrics, FederationID: fed.ID, Logger: a.p.Logger()}
	if o.FlowerDir == "" {
		o.FlowerDir = os.Getenv("THUNDERLINE_FLOWER_DIR")
	}
	run := func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 6*time.Hour)
		defer cancel()
		_, err := federation.Run(ctx, o)
		if err != nil {
			a.p.Logger().Error("federation failed", "id", fed.ID, "err", err)
		}
		return err
	}
	a.fed.runs.Add(1)
	tracked := func(ctx context.Context) error {
		defer a.fed.runs.Done()
		return run(ctx)
	}
	// The actor tree's engine/federation supervises the run when the
	// engine has a tree; otherwise it runs on its own goroutine.
	if t := a.p.Tree(); t != nil && t.RunFederation(fed.ID, tracked) {
		return fed.ID, nil
	}
	go tracked(context.Background())
	return fed.ID, nil
}

// ConfigureFederations sets where the Flower apps are (flowerDir, python)
// for federations started over HTTP, and turns their metrics on (served by
// /metrics).
func (a *Admin) ConfigureFederations(flowerDir, python string) {
	a.fed.FlowerDir, a.fed.Python = flowerDir, python
	a.fed.Metrics = federation.NewMetrics(nil)
}

// WaitFederations waits for the federations started over HTTP to end
// (shutdown, tests).
func (a *Admin) WaitFederations() { a.fed.runs.Wait() }
