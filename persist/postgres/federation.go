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

// activeFederation checks that the federation is in one of the statuses ok.
func activeFederation(fed Federation, ok ...string) error {
	if slices.Contains(ok, fed.Status) {
		return nil
	}
	return fmt.Errorf("federation %s is %s, want %s: %w", fed.ID, fed.Status, strings.Join(ok, " or "), ErrInvalidTransition)
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
	ExpertID     string     `json:"expert_id,omitempty"`
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

// get reads the row of what with id, ErrNotFound when the tenant has none.
func get[T any](ctx context.Context, f *FL, what, query, id string, scan func(pgx.Row) (T, error)) (T, error) {
	var out T
	err := f.read(ctx, "get "+what, func(tx pgx.Tx) error {
		var err error
		out, err = scan(tx.QueryRow(ctx, query, id))
		return notFound(err, what, id)
	})
	return out, err
}
