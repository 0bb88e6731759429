package postgres

// The control plane of federated training (issue 7; seed 000 "Ash
// resources"), one tenant at a time: FL.
//
// # Resources (migrations/0005_federation.sql)
//
//	federations      a FederationSpec (spec_yaml, validated by the caller with
//	                 engine/config.ParseFederationSpec: persist does not import
//	                 engine) and its status
//	fl_rounds        round n of a federation, its metrics_json
//	client_leases    one client's lease on a federation: manifest, expiry,
//	                 epochs_max, tokens_max (0: no limit)
//	model_artifacts  a checkpoint written by a federation (or one round):
//	                 uri, sha256, size, format
//	metrics_rollups  a round's aggregated metrics
//
// Every row carries tenant_id under the row-level security of 0002; child
// rows reference their federation by (tenant_id, federation_id), so no
// tenant can attach rows to another's federation.
//
// # Transitions
//
//	federation  created → started → completed | failed;  created → failed
//	round       started → completed | failed
//	lease       issued → claimed → joined → completed | dropped;
//	            issued | claimed → expired
//
// and the preconditions: leases are issued and claimed while the federation
// is created or started; clients join, rounds start, aggregates and
// artifacts are recorded while it is started; round n starts after round
// n−1 ended (no round in progress); a federation completes with no round in
// progress, and failing it fails the round in progress. A refused change is
// an error (ErrInvalidTransition, ErrLeaseExpired, ErrLeaseTaken,
// ErrNotFound, ErrExists) and writes nothing. Timestamps and lease expiry
// use this process's clock (one value per change), not the server's. Locks
// are taken federation first, then its round or lease.
//
// # Events
//
// Every change runs in one transaction under WithTenant (FL.change, the
// only code path that writes these tables) and writes its events to the
// outbox in that transaction (event_id set, journal columns NULL; payload
// JSON with the ids and the new status):
//
//	CreateFederation    fl.federation.created
//	StartFederation     fl.federation.started
//	CompleteFederation  fl.federation.completed
//	FailFederation      fl.round.failed (the round in progress, if any),
//	                    fl.federation.failed
//	IssueLease          fl.client.lease_issued
//	ClaimLease          fl.client.lease_claimed (none when the same client
//	                    claims its claimed lease again: idempotent)
//	JoinClient          fl.client.joined
//	DropClient          fl.client.dropped
//	CompleteLease       fl.client.completed
//	ExpireLeases        fl.client.lease_expired, one per lease
//	StartRound          fl.round.started
//	CompleteRound       fl.round.completed
//	FailRound           fl.round.failed
//	RecordAggregate     fl.aggregate.completed
//	RecordArtifact      fl.artifact.recorded
//
// lease_claimed, client.completed, lease_expired, round.failed and
// artifact.recorded are not among the seed's example topics; they cover
// the transitions the seed's list leaves without one.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Statuses of federations, rounds and leases.
const (
	FederationCreated   = "created"
	FederationStarted   = "started"
	FederationCompleted = "completed"
	FederationFailed    = "failed"

	RoundStarted   = "started"
	RoundCompleted = "completed"
	RoundFailed    = "failed"

	LeaseIssued    = "issued"
	LeaseClaimed   = "claimed"
	LeaseJoined    = "joined"
	LeaseDropped   = "dropped"
	LeaseExpired   = "expired"
	LeaseCompleted = "completed"
)

// Outbox topics of the federation resources.
const (
	TopicFederationCreated   = "fl.federation.created"
	TopicFederationStarted   = "fl.federation.started"
	TopicFederationCompleted = "fl.federation.completed"
	TopicFederationFailed    = "fl.federation.failed"
	TopicLeaseIssued         = "fl.client.lease_issued"
	TopicLeaseClaimed        = "fl.client.lease_claimed"
	TopicClientJoined        = "fl.client.joined"
	TopicClientDropped       = "fl.client.dropped"
	TopicClientCompleted     = "fl.client.completed"
	TopicLeaseExpired        = "fl.client.lease_expired"
	TopicRoundStarted        = "fl.round.started"
	TopicRoundCompleted      = "fl.round.completed"
	TopicRoundFailed         = "fl.round.failed"
	TopicAggregateCompleted  = "fl.aggregate.completed"
	TopicArtifactRecorded    = "fl.artifact.recorded"
)

var (
	// ErrNotFound: no such row for this tenant (another tenant's rows are
	// not found either).
	ErrNotFound = errors.New("postgres: not found")
	// ErrExists: the row exists already (a second lease for one client of
	// a federation).
	ErrExists = errors.New("postgres: already exists")
	// ErrInvalidTransition: the change is not allowed from the current
	// status (a *TransitionError) or in the federation's status.
	ErrInvalidTransition = errors.New("postgres: invalid status transition")
	// ErrLeaseExpired: the lease is expired, or past its expiry.
	ErrLeaseExpired = errors.New("postgres: lease expired")
	// ErrLeaseTaken: the lease belongs to another client.
	ErrLeaseTaken = errors.New("postgres: lease held by another client")
)

// TransitionError is a refused status change; it unwraps to
// ErrInvalidTransition.
type TransitionError struct {
	Resource string // federation | round | lease
	ID       string
	From, To string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s %s: %s → %s: invalid status transition", e.Resource, e.ID, e.From, e.To)
}

// Unwrap returns ErrInvalidTransition.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }

// moves are the allowed status transitions of each resource.
var moves = map[string]map[[2]string]bool{
	"federation": {
		{FederationCreated, FederationStarted}: true, {FederationStarted, FederationCompleted}: true,
		{FederationStarted, FederationFailed}: true, {FederationCreated, FederationFailed}: true,
	},
	"round": {{RoundStarted, RoundCompleted}: true, {RoundStarted, RoundFailed}: true},
	"lease": {
		{LeaseIssued, LeaseClaimed}: true, {LeaseClaimed, LeaseJoined}: true, {LeaseJoined, LeaseCompleted}: true,
		{LeaseJoined, LeaseDropped}: true, {LeaseIssued, LeaseExpired}: true, {LeaseClaimed, LeaseExpired}: true,
	},
}

// move checks one transition.
func move(resource, id, from, to string) error {
	if !moves[resource][[2]string{from, to}] {
		return &TransitionError{Resource: resource, ID: id, From: from, To: to}
	}
	return nil
}

// FederationInput is what CreateFederation needs.
type FederationInput struct {
	Name      string // the spec's name
	SpecYAML  string // the spec as written (engine/config.ParseFederationSpec accepted it)
	CreatedBy string // who asked
}

// Federation is a federations row.
type Federation struct {
	ID, TenantID, Name, SpecYAML, Status, CreatedBy string
	CreatedAt                                       time.Time
	StartedAt, CompletedAt                          *time.Time
	Error                                           string // why it failed
}

// Round is an fl_rounds row.
type Round struct {
	ID, FederationID string
	Num              int
	Status           string
	Metrics          json.RawMessage // nil until completed
	StartedAt        time.Time
	CompletedAt      *time.Time
	Error            string
}

// Lease is a client_leases row.
type Lease struct {
	ID, FederationID, ClientID, ManifestURI string
	ExpiresAt                               time.Time
	EpochsMax                               int   // 0: no limit
	TokensMax                               int64 // 0: no limit
	Status                                  string
	IssuedAt                                time.Time
	ClaimedAt, JoinedAt, EndedAt            *time.Time
	Reason                                  string // why it was dropped
}

// Artifact is a model_artifacts row.
type Artifact struct {
	ID, FederationID string
	RoundID          string // "": the federation's
	URI              string
	SHA256           []byte
	SizeBytes        int64
	Format           string
	CreatedAt        time.Time
}

// Rollup is a metrics_rollups row.
type Rollup struct {
	ID, FederationID, RoundID string
	Aggregates                json.RawMessage
	CreatedAt                 time.Time
}

// FL changes and reads one tenant's federation resources.
type FL struct {
	pool   *pgxpool.Pool
	tenant string
	now    func() time.Time // the clock of timestamps and lease expiry; tests move it
}

// NewFL returns the federation resources of tenant on pool (migrated).
func NewFL(pool *pgxpool.Pool, tenant string) (*FL, error) {
	if tenant == "" {
		return nil, ErrNoTenant
	}
	return &FL{pool: pool, tenant: tenant, now: time.Now}, nil
}

// event is one outbox row of a change.
type event struct {
	topic   string
	payload eventPayload
}

// eventPayload is the JSON payload of every fl.* event.
type eventPayload struct {
	FederationID string     `json:"federation_id"`
	RoundID      string     `json:"round_id,omitempty"`
	RoundNum     int        `json:"round_num,omitempty"`
	LeaseID      string     `json:"lease_id,omitempty"`
	ClientID     string     `json:"client_id,omitempty"`
	ArtifactID   string     `json:"artifact_id,omitempty"`
	RollupID     string     `json:"rollup_id,omitempty"`
	Status       string     `json:"status"`
	From         string     `json:"from,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	Reason       string     `json:"reason,omitempty"`
}

// change is the one code path of every write: fn runs in a transaction
// scoped to the tenant, with the time of the change; the events it returns
// go to the outbox in the same transaction. An error from fn rolls back
// everything: a refused change writes nothing.
func (f *FL) change(ctx context.Context, what string, fn func(tx pgx.Tx, now time.Time) ([]event, error)) error {
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, f.tenant); err != nil {
			return err
		}
		evs, err := fn(tx, f.now().UTC().Truncate(time.Microsecond))
		if err != nil {
			return err
		}
		for _, e := range evs {
			b, err := json.Marshal(e.payload)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.topic, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO outbox (tenant_id, topic, event_id, payload)
				VALUES ($1, $2, gen_random_uuid(), $3)`, f.tenant, e.topic, b); err != nil {
				return fmt.Errorf("event %s: %w", e.topic, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// read runs fn in a read-only transaction scoped to the tenant.
func (f *FL) read(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginTxFunc(ctx, f.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, f.tenant); err != nil {
			return err
		}
		return fn(tx)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// notFound turns no row into ErrNotFound.
func notFound(err error, what, id string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return err
}

// Columns and scanners, one per table.

const fedCols = `id, tenant_id, name, spec_yaml, status, created_by, created_at, started_at, completed_at, coalesce(error, '')`

func scanFederation(r pgx.Row) (Federation, error) {
	var x Federation
	err := r.Scan(&x.ID, &x.TenantID, &x.Name, &x.SpecYAML, &x.Status, &x.CreatedBy, &x.CreatedAt, &x.StartedAt, &x.CompletedAt, &x.Error)
	return x, err
}

const roundCols = `id, federation_id, round_num, status, metrics_json, started_at, completed_at, coalesce(error, '')`

func scanRound(r pgx.Row) (Round, error) {
	var x Round
	err := r.Scan(&x.ID, &x.FederationID, &x.Num, &x.Status, &x.Metrics, &x.StartedAt, &x.CompletedAt, &x.Error)
	return x, err
}

const leaseCols = `id, federation_id, client_id, manifest_uri, lease_expires_at, epochs_max, tokens_max, status,
	issued_at, claimed_at, joined_at, ended_at, coalesce(reason, '')`

func scanLease(r pgx.Row) (Lease, error) {
	var x Lease
	err := r.Scan(&x.ID, &x.FederationID, &x.ClientID, &x.ManifestURI, &x.ExpiresAt, &x.EpochsMax, &x.TokensMax, &x.Status,
		&x.IssuedAt, &x.ClaimedAt, &x.JoinedAt, &x.EndedAt, &x.Reason)
	return x, err
}

const artifactCols = `id, federation_id, coalesce(round_id::text, ''), uri, sha256, size_bytes, format, created_at`

func scanArtifact(r pgx.Row) (Artifact, error) {
	var x Artifact
	err := r.Scan(&x.ID, &x.FederationID, &x.RoundID, &x.URI, &x.SHA256, &x.SizeBytes, &x.Format, &x.CreatedAt)
	return x, err
}

const rollupCols = `id, federation_id, coalesce(round_id::text, ''), aggregates_json, created_at`

func scanRollup(r pgx.Row) (Rollup, error) {
	var x Rollup
	err := r.Scan(&x.ID, &x.FederationID, &x.RoundID, &x.Aggregates, &x.CreatedAt)
	return x, err
}

// lockFederation reads a federation and locks it against concurrent status
// changes (FOR UPDATE; FOR SHARE when share: leases of one federation may
// be issued concurrently).
func lockFederation(ctx context.Context, tx pgx.Tx, id string, share bool) (Federation, error) {
	lock := "FOR UPDATE"
	if share {
		lock = "FOR SHARE"
	}
	x, err := scanFederation(tx.QueryRow(ctx, "SELECT "+fedCols+" FROM federations WHERE id = $1 "+lock, id))
	return x, notFound(err, "federation", id)
}

// activeFederation checks that the federation is in one of the statuses ok.
func activeFederation(fed Federation, ok ...string) error {
	if slices.Contains(ok, fed.Status) {
		return nil
	}
	return fmt.Errorf("federation %s is %s, want %s: %w", fed.ID, fed.Status, strings.Join(ok, " or "), ErrInvalidTransition)
}

// CreateFederation records a new federation (status created).
func (f *FL) CreateFederation(ctx context.Context, in FederationInput) (Federation, error) {
	var out Federation
	switch {
	case in.Name == "":
		return out, errors.New("create federation: empty name")
	case in.SpecYAML == "":
		return out, errors.New("create federation: empty spec_yaml")
	case in.CreatedBy == "":
		return out, errors.New("create federation: empty created_by")
	}
	err := f.change(ctx, "create federation", func(tx pgx.Tx, now time.Time) ([]event, error) {
		var err error
		out, err = scanFederation(tx.QueryRow(ctx, `INSERT INTO federations (tenant_id, name, spec_yaml, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+fedCols, f.tenant, in.Name, in.SpecYAML, in.CreatedBy, now))
		if err != nil {
			return nil, err
		}
		return []event{{TopicFederationCreated, eventPayload{FederationID: out.ID, Status: out.Status}}}, nil
	})
	return out, err
}

// StartFederation moves a federation from created to started.
func (f *FL) StartFederation(ctx context.Context, id string) (Federation, error) {
	var out Federation
	err := f.change(ctx, "start federation", func(tx pgx.Tx, now time.Time) ([]event, error) {
		fed, err := lockFederation(ctx, tx, id, false)
		if err != nil {
			return nil, err
		}
		if err := move("federation", id, fed.Status, FederationStarted); err != nil {
			return nil, err
		}
		out, err = scanFederation(tx.QueryRow(ctx, `UPDATE federations SET status = $2, started_at = $3
			WHERE id = $1 RETURNING `+fedCols, id, FederationStarted, now))
		if err != nil {
			return nil, err
		}
		return []event{{TopicFederationStarted, eventPayload{FederationID: id, Status: out.Status, From: fed.Status}}}, nil
	})
	return out, err
}

// CompleteFederation moves a started federation with no round in progress
// to completed.
func (f *FL) CompleteFederation(ctx context.Context, id string) (Federation, error) {
	var out Federation
	err := f.change(ctx, "complete federation", func(tx pgx.Tx, now time.Time) ([]event, error) {
		fed, err := lockFederation(ctx, tx, id, false)
		if err != nil {
			return nil, err
		}
		if err := move("federation", id, fed.Status, FederationCompleted); err != nil {
			return nil, err
		}
		var open int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM fl_rounds WHERE federation_id = $1 AND status = $2",
			id, RoundStarted).Scan(&open); err != nil {
			return nil, err
		}
		if open > 0 {
			return nil, fmt.Errorf("federation %s has a round in progress: %w", id, ErrInvalidTransition)
		}
		out, err = scanFederation(tx.QueryRow(ctx, `UPDATE federations SET status = $2, completed_at = $3
			WHERE id = $1 RETURNING `+fedCols, id, FederationCompleted, now))
		if err != nil {
			return nil, err
		}
		return []event{{TopicFederationCompleted, eventPayload{FederationID: id, Status: out.Status, From: fed.Status}}}, nil
	})
	return out, err
}

// FailFederation moves a created or started federation to failed, with
// cause's text, and fails its round in progress.
func (f *FL) FailFederation(ctx context.Context, id string, cause error) (Federation, error) {
	var out Federation
	reason := "unknown"
	if cause != nil {
		reason = cause.Error()
	}
	err := f.change(ctx, "fail federation", func(tx pgx.Tx, now time.Time) ([]event, error) {
		fed, err := lockFederation(ctx, tx, id, false)
		if err != nil {
			return nil, err
		}
		if err := move("federation", id, fed.Status, FederationFailed); err != nil {
			return nil, err
		}
		rows, err := tx.Query(ctx, `UPDATE fl_rounds SET status = $3, completed_at = $4, error = $5
			WHERE federation_id = $1 AND status = $2 RETURNING `+roundCols, id, RoundStarted, RoundFailed, now, "federation failed: "+reason)
		if err != nil {
			return nil, err
		}
		failed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Round, error) { return scanRound(r) })
		if err != nil {
			return nil, err
		}
		var evs []event
		for _, r := range failed {
			evs = append(evs, event{TopicRoundFailed, eventPayload{FederationID: id, RoundID: r.ID, RoundNum: r.Num,
				Status: r.Status, From: RoundStarted, Reason: r.Error}})
		}
		out, err = scanFederation(tx.QueryRow(ctx, `UPDATE federations SET status = $2, completed_at = $3, error = $4
			WHERE id = $1 RETURNING `+fedCols, id, FederationFailed, now, reason))
		if err != nil {
			return nil, err
		}
		return append(evs, event{TopicFederationFailed, eventPayload{FederationID: id, Status: out.Status, From: fed.Status,
			Reason: reason}}), nil
	})
	return out, err
}

// IssueLease offers clientID a lease on a created or started federation,
// until expires (after now); epochsMax and tokensMax bound its training
// (0: no limit). A client has at most one lease per federation (ErrExists).
func (f *FL) IssueLease(ctx context.Context, fedID, clientID, manifestURI string, expires time.Time, epochsMax int, tokensMax int64) (Lease, error) {
	var out Lease
	switch {
	case clientID == "":
		return out, errors.New("issue lease: empty client id")
	case manifestURI == "":
		return out, errors.New("issue lease: empty manifest uri")
	case epochsMax < 0 || tokensMax < 0:
		return out, fmt.Errorf("issue lease: epochs_max %d, tokens_max %d: must not be negative", epochsMax, tokensMax)
	}
	err := f.change(ctx, "issue lease", func(tx pgx.Tx, now time.Time) ([]event, error) {
		if !expires.After(now) {
			return nil, fmt.Errorf("expiry %v is not after now (%v)", expires, now)
		}
		fed, err := lockFederation(ctx, tx, fedID, true)
		if err != nil {
			return nil, err
		}
		if err := activeFederation(fed, FederationCreated, FederationStarted); err != nil {
			return nil, err
		}
		out, err = scanLease(tx.QueryRow(ctx, `INSERT INTO client_leases (tenant_id, federation_id, client_id, manifest_uri,
			lease_expires_at, epochs_max, tokens_max, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+leaseCols,
			f.tenant, fedID, clientID, manifestURI, expires, epochsMax, tokensMax, now))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return nil, fmt.Errorf("client %q has a lease on federation %s: %w", clientID, fedID, ErrExists)
		}
		if err != nil {
			return nil, err
		}
		return []event{{TopicLeaseIssued, eventPayload{FederationID: fedID, LeaseID: out.ID, ClientID: clientID,
			Status: out.Status, ExpiresAt: &out.ExpiresAt}}}, nil
	})
	return out, err
}

// lockLease reads a lease and its federation's status, and locks the lease.
func lockLease(ctx context.Context, tx pgx.Tx, id string) (Lease, Federation, error) {
	var fed Federation
	var l Lease
	err := tx.QueryRow(ctx, `SELECT `+leaseCols+`, (SELECT status FROM federations f WHERE f.tenant_id = l.tenant_id AND f.id = l.federation_id)
		FROM client_leases l WHERE id = $1 FOR UPDATE`, id).Scan(&l.ID, &l.FederationID, &l.ClientID, &l.ManifestURI, &l.ExpiresAt,
		&l.EpochsMax, &l.TokensMax, &l.Status, &l.IssuedAt, &l.ClaimedAt, &l.JoinedAt, &l.EndedAt, &l.Reason, &fed.Status)
	fed.ID = l.FederationID
	return l, fed, notFound(err, "lease", id)
}

// ClaimLease claims an issued lease for its client. Idempotent: claiming a
// lease the same client has claimed returns it unchanged and writes
// nothing. Another client's lease is ErrLeaseTaken; an expired lease, or
// one past its expiry, ErrLeaseExpired.
func (f *FL) ClaimLease(ctx context.Context, leaseID, clientID string) (Lease, error) {
	var out Lease
	err := f.change(ctx, "claim lease", func(tx pgx.Tx, now time.Time) ([]event, error) {
		l, fed, err := lockLease(ctx, tx, leaseID)
		if err != nil {
			return nil, err
		}
		switch {
		case l.ClientID != clientID:
			return nil, fmt.Errorf("lease %s: %w", leaseID, ErrLeaseTaken)
		case l.Status == LeaseClaimed:
			out = l // claimed already by this client: no change, no event
			return nil, nil
		case l.Status == LeaseExpired || (l.Status == LeaseIssued && !now.Before(l.ExpiresAt)):
			return nil, fmt.Errorf("lease %s expired at %v: %w", leaseID, l.ExpiresAt, ErrLeaseExpired)
		}
		if err := move("lease", leaseID, l.Status, LeaseClaimed); err != nil {
			return nil, err
		}
		if err := activeFederation(fed, FederationCreated, FederationStarted); err != nil {
			return nil, err
		}
		out, err = scanLease(tx.QueryRow(ctx, `UPDATE client_leases SET status = $2, claimed_at = $3
			WHERE id = $1 RETURNING `+leaseCols, leaseID, LeaseClaimed, now))
		if err != nil {
			return nil, err
		}
		return []event{{TopicLeaseClaimed, eventPayload{FederationID: l.FederationID, LeaseID: leaseID, ClientID: clientID,
			Status: out.Status, From: l.Status}}}, nil
	})
	return out, err
}

// JoinClient records that the client of a claimed lease joined the started
// federation (before the lease's expiry).
func (f *FL) JoinClient(ctx context.Context, leaseID, clientID string) (Lease, error) {
	var out Lease
	err := f.change(ctx, "join client", func(tx pgx.Tx, now time.Time) ([]event, error) {
		l, fed, err := lockLease(ctx, tx, leaseID)
		if err != nil {
			return nil, err
		}
		switch {
		case l.ClientID != clientID:
			return nil, fmt.Errorf("lease %s: %w", leaseID, ErrLeaseTaken)
		case l.Status == LeaseExpired || (l.Status == LeaseClaimed && !now.Before(l.ExpiresAt)):
			return nil, fmt.Errorf("lease %s expired at %v: %w", leaseID, l.ExpiresAt, ErrLeaseExpired)
		}
		if err := move("lease", leaseID, l.Status, LeaseJoined); err != nil {
			return nil, err
		}
		if err := activeFederation(fed, FederationStarted); err != nil {
			return nil, err
		}
		out, err = scanLease(tx.QueryRow(ctx, `UPDATE client_leases SET status = $2, joined_at = $3
			WHERE id = $1 RETURNING `+leaseCols, leaseID, LeaseJoined, now))
		if err != nil {
			return nil, err
		}
		return []event{{TopicClientJoined, eventPayload{FederationID: l.FederationID, LeaseID: leaseID, ClientID: clientID,
			Status: out.Status, From: l.Status}}}, nil
	})
	return out, err
}

// endLease moves a joined lease to completed or dropped.
func (f *FL) endLease(ctx context.Context, what, leaseID, to, topic, reason string) (Lease, error) {
	var out Lease
	err := f.change(ctx, what, func(tx pgx.Tx, now time.Time) ([]event, error) {
		l, _, err := lockLease(ctx, tx, leaseID)
		if err != nil {
			return nil, err
		}
		if err := move("lease", leaseID, l.Status, to); err != nil {
			return nil, err
		}
		out, err = scanLease(tx.QueryRow(ctx, `UPDATE client_leases SET status = $2, ended_at = $3, reason = nullif($4, '')
			WHERE id = $1 RETURNING `+leaseCols, leaseID, to, now, reason))
		if err != nil {
			return nil, err
		}
		return []event{{topic, eventPayload{FederationID: l.FederationID, LeaseID: leaseID, ClientID: l.ClientID,
			Status: out.Status, From: l.Status, Reason: reason}}}, nil
	})
	return out, err
}

// DropClient records that a joined client left or was cut off, and why.
func (f *FL) DropClient(ctx context.Context, leaseID, reason string) (Lease, error) {
	if reason == "" {
		reason = "unspecified"
	}
	return f.endLease(ctx, "drop client", leaseID, LeaseDropped, TopicClientDropped, reason)
}

// CompleteLease records that a joined client finished its part.
func (f *FL) CompleteLease(ctx context.Context, leaseID string) (Lease, error) {
	return f.endLease(ctx, "complete lease", leaseID, LeaseCompleted, TopicClientCompleted, "")
}

// ExpireLeases moves the issued and claimed leases of a federation that are
// past their expiry to expired (one event each) and returns them. Run it
// from a timer.
func (f *FL) ExpireLeases(ctx context.Context, fedID string) ([]Lease, error) {
	var out []Lease
	err := f.change(ctx, "expire leases", func(tx pgx.Tx, now time.Time) ([]event, error) {
		rows, err := tx.Query(ctx, `WITH old AS (
				SELECT id, status FROM client_leases WHERE federation_id = $1 AND status IN ($2, $3) AND lease_expires_at <= $4
				FOR UPDATE)
			UPDATE client_leases l SET status = $5, ended_at = $4 FROM old WHERE l.id = old.id
			RETURNING old.status, `+leaseColsOf("l"), fedID, LeaseIssued, LeaseClaimed, now, LeaseExpired)
		if err != nil {
			return nil, err
		}
		var from []string
		for rows.Next() {
			var was string
			var l Lease
			if err := rows.Scan(&was, &l.ID, &l.FederationID, &l.ClientID, &l.ManifestURI, &l.ExpiresAt, &l.EpochsMax,
				&l.TokensMax, &l.Status, &l.IssuedAt, &l.ClaimedAt, &l.JoinedAt, &l.EndedAt, &l.Reason); err != nil {
				rows.Close()
				return nil, err
			}
			out, from = append(out, l), append(from, was)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		// RETURNING has no order: events in the order the leases were issued.
		idx := make([]int, len(out))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(i, j int) int {
			if c := out[i].IssuedAt.Compare(out[j].IssuedAt); c != 0 {
				return c
			}
			return strings.Compare(out[i].ID, out[j].ID)
		})
		sorted := make([]Lease, 0, len(out))
		var evs []event
		for _, i := range idx {
			l := out[i]
			sorted = append(sorted, l)
			evs = append(evs, event{TopicLeaseExpired, eventPayload{FederationID: fedID, LeaseID: l.ID, ClientID: l.ClientID,
				Status: l.Status, From: from[i]}})
		}
		out = sorted
		return evs, nil
	})
	if err != nil {
		return nil, err // rolled back: none expired
	}
	return out, nil
}

// leaseColsOf is leaseCols qualified by a table alias.
func leaseColsOf(a string) string {
	return a + `.id, ` + a + `.federation_id, ` + a + `.client_id, ` + a + `.manifest_uri, ` + a + `.lease_expires_at, ` +
		a + `.epochs_max, ` + a + `.tokens_max, ` + a + `.status, ` + a + `.issued_at, ` + a + `.claimed_at, ` + a + `.joined_at, ` +
		a + `.ended_at, coalesce(` + a + `.reason, '')`
}

// StartRound starts round n of a started federation: n is one past the
// last round, and no round is in progress.
func (f *FL) StartRound(ctx context.Context, fedID string, n int) (Round, error) {
	var out Round
	err := f.change(ctx, "start round", func(tx pgx.Tx, now time.Time) ([]event, error) {
		fed, err := lockFederation(ctx, tx, fedID, false)
		if err != nil {
			return nil, err
		}
		if err := activeFederation(fed, FederationStarted); err != nil {
			return nil, err
		}
		var last, open int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(round_num), 0), count(*) FILTER (WHERE status = $2)
			FROM fl_rounds WHERE federation_id = $1`, fedID, RoundStarted).Scan(&last, &open); err != nil {
			return nil, err
		}
		if open > 0 {
			return nil, fmt.Errorf("start round %d: round %d of federation %s is in progress: %w", n, last, fedID, ErrInvalidTransition)
		}
		if n != last+1 {
			return nil, fmt.Errorf("start round %d: federation %s is at round %d, want %d: %w", n, fedID, last, last+1, ErrInvalidTransition)
		}
		out, err = scanRound(tx.QueryRow(ctx, `INSERT INTO fl_rounds (tenant_id, federation_id, round_num, started_at)
			VALUES ($1, $2, $3, $4) RETURNING `+roundCols, f.tenant, fedID, n, now))
		if err != nil {
			return nil, err
		}
		return []event{{TopicRoundStarted, eventPayload{FederationID: fedID, RoundID: out.ID, RoundNum: n, Status: out.Status}}}, nil
	})
	return out, err
}

// lockRound reads a round and locks it.
func lockRound(ctx context.Context, tx pgx.Tx, id string) (Round, error) {
	r, err := scanRound(tx.QueryRow(ctx, "SELECT "+roundCols+" FROM fl_rounds WHERE id = $1 FOR UPDATE", id))
	return r, notFound(err, "round", id)
}

// endRound moves a started round to completed (with its metrics) or failed.
func (f *FL) endRound(ctx context.Context, what, roundID, to, topic string, metrics json.RawMessage, reason string) (Round, error) {
	var out Round
	if metrics != nil && !json.Valid(metrics) {
		return out, fmt.Errorf("%s: metrics are not valid JSON", what)
	}
	err := f.change(ctx, what, func(tx pgx.Tx, now time.Time) ([]event, error) {
		r, err := lockRound(ctx, tx, roundID)
		if err != nil {
			return nil, err
		}
		if err := move("round", roundID, r.Status, to); err != nil {
			return nil, err
		}
		out, err = scanRound(tx.QueryRow(ctx, `UPDATE fl_rounds SET status = $2, completed_at = $3, metrics_json = $4, error = nullif($5, '')
			WHERE id = $1 RETURNING `+roundCols, roundID, to, now, metrics, reason))
		if err != nil {
			return nil, err
		}
		return []event{{topic, eventPayload{FederationID: r.FederationID, RoundID: roundID, RoundNum: r.Num,
			Status: out.Status, From: r.Status, Reason: reason}}}, nil
	})
	return out, err
}

// CompleteRound moves a started round to completed with its metrics (JSON;
// nil: none).
func (f *FL) CompleteRound(ctx context.Context, roundID string, metrics json.RawMessage) (Round, error) {
	return f.endRound(ctx, "complete round", roundID, RoundCompleted, TopicRoundCompleted, metrics, "")
}

// FailRound moves a started round to failed, with cause's text.
func (f *FL) FailRound(ctx context.Context, roundID string, cause error) (Round, error) {
	reason := "unknown"
	if cause != nil {
		reason = cause.Error()
	}
	return f.endRound(ctx, "fail round", roundID, RoundFailed, TopicRoundFailed, nil, reason)
}

// RecordAggregate stores the aggregated metrics of a round (started or
// completed, of a started federation) as a metrics rollup.
func (f *FL) RecordAggregate(ctx context.Context, roundID string, aggregates json.RawMessage) (Rollup, error) {
	var out Rollup
	if !json.Valid(aggregates) {
		return out, errors.New("record aggregate: aggregates are not valid JSON")
	}
	err := f.change(ctx, "record aggregate", func(tx pgx.Tx, now time.Time) ([]event, error) {
		// Federation first, then round: the order FailFederation locks in.
		var fedID string
		if err := tx.QueryRow(ctx, "SELECT federation_id FROM fl_rounds WHERE id = $1", roundID).Scan(&fedID); err != nil {
			return nil, notFound(err, "round", roundID)
		}
		fed, err := lockFederation(ctx, tx, fedID, true)
		if err != nil {
			return nil, err
		}
		if err := activeFederation(fed, FederationStarted); err != nil {
			return nil, err
		}
		r, err := lockRound(ctx, tx, roundID)
		if err != nil {
			return nil, err
		}
		if r.Status == RoundFailed {
			return nil, fmt.Errorf("round %s failed: %w", roundID, ErrInvalidTransition)
		}
		out, err = scanRollup(tx.QueryRow(ctx, `INSERT INTO metrics_rollups (tenant_id, federation_id, round_id, aggregates_json, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+rollupCols, f.tenant, r.FederationID, roundID, aggregates, now))
		if err != nil {
			return nil, err
		}
		return []event{{TopicAggregateCompleted, eventPayload{FederationID: r.FederationID, RoundID: roundID, RoundNum: r.Num,
			RollupID: out.ID, Status: "completed"}}}, nil
	})
	return out, err
}

// RecordArtifact records a checkpoint of a started federation: of round
// roundID, or of the federation when roundID is "". sha256 is the digest
// of the object at uri (32 bytes).
func (f *FL) RecordArtifact(ctx context.Context, fedID, roundID, uri string, sha256 []byte, size int64, format string) (Artifact, error) {
	var out Artifact
	switch {
	case uri == "":
		return out, errors.New("record artifact: empty uri")
	case len(sha256) != 32:
		return out, fmt.Errorf("record artifact: sha256 of %d bytes, want 32", len(sha256))
	case size < 0:
		return out, fmt.Errorf("record artifact: size %d is negative", size)
	case format == "":
		return out, errors.New("record artifact: empty format")
	}
	err := f.change(ctx, "record artifact", func(tx pgx.Tx, now time.Time) ([]event, error) {
		fed, err := lockFederation(ctx, tx, fedID, true)
		if err != nil {
			return nil, err
		}
		if err := activeFederation(fed, FederationStarted); err != nil {
			return nil, err
		}
		var round *string
		if roundID != "" {
			var owner string
			if err := tx.QueryRow(ctx, "SELECT federation_id FROM fl_rounds WHERE id = $1", roundID).Scan(&owner); err != nil {
				return nil, notFound(err, "round", roundID)
			}
			if owner != fedID {
				return nil, fmt.Errorf("round %s is not of federation %s: %w", roundID, fedID, ErrNotFound)
			}
			round = &roundID
		}
		out, err = scanArtifact(tx.QueryRow(ctx, `INSERT INTO model_artifacts (tenant_id, federation_id, round_id, uri, sha256,
			size_bytes, format, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+artifactCols,
			f.tenant, fedID, round, uri, sha256, size, format, now))
		if err != nil {
			return nil, err
		}
		return []event{{TopicArtifactRecorded, eventPayload{FederationID: fedID, RoundID: roundID, ArtifactID: out.ID,
			Status: "recorded"}}}, nil
	})
	return out, err
}

// GetFederation returns one federation.
func (f *FL) GetFederation(ctx context.Context, id string) (Federation, error) {
	var out Federation
	err := f.read(ctx, "get federation", func(tx pgx.Tx) error {
		var err error
		out, err = scanFederation(tx.QueryRow(ctx, "SELECT "+fedCols+" FROM federations WHERE id = $1", id))
		return notFound(err, "federation", id)
	})
	return out, err
}

// ListFederations returns the tenant's federations, oldest first.
func (f *FL) ListFederations(ctx context.Context) ([]Federation, error) {
	return list(ctx, f, "list federations", "SELECT "+fedCols+" FROM federations ORDER BY created_at, id", scanFederation)
}

// GetRound returns one round.
func (f *FL) GetRound(ctx context.Context, id string) (Round, error) {
	var out Round
	err := f.read(ctx, "get round", func(tx pgx.Tx) error {
		var err error
		out, err = scanRound(tx.QueryRow(ctx, "SELECT "+roundCols+" FROM fl_rounds WHERE id = $1", id))
		return notFound(err, "round", id)
	})
	return out, err
}

// ListRounds returns a federation's rounds in order.
func (f *FL) ListRounds(ctx context.Context, fedID string) ([]Round, error) {
	return list(ctx, f, "list rounds", "SELECT "+roundCols+" FROM fl_rounds WHERE federation_id = $1 ORDER BY round_num", scanRound, fedID)
}

// GetLease returns one lease.
func (f *FL) GetLease(ctx context.Context, id string) (Lease, error) {
	var out Lease
	err := f.read(ctx, "get lease", func(tx pgx.Tx) error {
		var err error
		out, err = scanLease(tx.QueryRow(ctx, "SELECT "+leaseCols+" FROM client_leases WHERE id = $1", id))
		return notFound(err, "lease", id)
	})
	return out, err
}

// ListLeases returns a federation's leases in the order they were issued.
func (f *FL) ListLeases(ctx context.Context, fedID string) ([]Lease, error) {
	return list(ctx, f, "list leases", "SELECT "+leaseCols+" FROM client_leases WHERE federation_id = $1 ORDER BY issued_at, id", scanLease, fedID)
}

// ListArtifacts returns a federation's artifacts, oldest first.
func (f *FL) ListArtifacts(ctx context.Context, fedID string) ([]Artifact, error) {
	return list(ctx, f, "list artifacts", "SELECT "+artifactCols+" FROM model_artifacts WHERE federation_id = $1 ORDER BY created_at, id", scanArtifact, fedID)
}

// ListRollups returns a federation's metrics rollups, oldest first.
func (f *FL) ListRollups(ctx context.Context, fedID string) ([]Rollup, error) {
	return list(ctx, f, "list rollups", "SELECT "+rollupCols+" FROM metrics_rollups WHERE federation_id = $1 ORDER BY created_at, id", scanRollup, fedID)
}

// list runs a query of the tenant's rows and scans each with scan.
func list[T any](ctx context.Context, f *FL, what, query string, scan func(pgx.Row) (T, error), args ...any) ([]T, error) {
	var out []T
	err := f.read(ctx, what, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
		return err
	})
	return out, err
}
