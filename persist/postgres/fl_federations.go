package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

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

const fedCols = `id, tenant_id, name, spec_yaml, status, created_by, created_at, started_at, completed_at, coalesce(error, '')`

func scanFederation(r pgx.Row) (Federation, error) {
	var x Federation
	err := r.Scan(&x.ID, &x.TenantID, &x.Name, &x.SpecYAML, &x.Status, &x.CreatedBy, &x.CreatedAt, &x.StartedAt, &x.CompletedAt, &x.Error)
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

// fedMove is one status change of a federation.
type fedMove struct {
	what, to, topic string
	at              string // the timestamp column it sets
	reason          string // why it failed ("": it did not)
	// before, when set, runs once the move is allowed and before the
	// federation's row changes: more checks, and changes to its children
	// with their events.
	before func(tx pgx.Tx, now time.Time) ([]event, error)
}

// moveFederation locks federation id and makes the move m.
func (f *FL) moveFederation(ctx context.Context, id string, m fedMove) (Federation, error) {
	var out Federation
	err := f.change(ctx, m.what, func(tx pgx.Tx, now time.Time) ([]event, error) {
		fed, err := lockFederation(ctx, tx, id, false)
		if err != nil {
			return nil, err
		}
		if err := move("federation", id, fed.Status, m.to); err != nil {
			return nil, err
		}
		var evs []event
		if m.before != nil {
			if evs, err = m.before(tx, now); err != nil {
				return nil, err
			}
		}
		out, err = scanFederation(tx.QueryRow(ctx, `UPDATE federations SET status = $2, `+m.at+` = $3, error = nullif($4, '')
			WHERE id = $1 RETURNING `+fedCols, id, m.to, now, m.reason))
		if err != nil {
			return nil, err
		}
		return append(evs, event{m.topic, eventPayload{FederationID: id, Status: out.Status, From: fed.Status, Reason: m.reason}}), nil
	})
	return out, err
}

// StartFederation moves a federation from created to started.
func (f *FL) StartFederation(ctx context.Context, id string) (Federation, error) {
	return f.moveFederation(ctx, id, fedMove{what: "start federation", to: FederationStarted, topic: TopicFederationStarted,
		at: "started_at"})
}

// CompleteFederation moves a started federation with no round in progress
// to completed.
func (f *FL) CompleteFederation(ctx context.Context, id string) (Federation, error) {
	return f.moveFederation(ctx, id, fedMove{what: "complete federation", to: FederationCompleted,
		topic: TopicFederationCompleted, at: "completed_at",
		before: func(tx pgx.Tx, _ time.Time) ([]event, error) {
			var open int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM fl_rounds WHERE federation_id = $1 AND status = $2",
				id, RoundStarted).Scan(&open); err != nil {
				return nil, err
			}
			if open > 0 {
				return nil, fmt.Errorf("federation %s has a round in progress: %w", id, ErrInvalidTransition)
			}
			return nil, nil
		}})
}

// FailFederation moves a created or started federation to failed, with
// cause's text, and fails its round in progress.
func (f *FL) FailFederation(ctx context.Context, id string, cause error) (Federation, error) {
	reason := "unknown"
	if cause != nil {
		reason = cause.Error()
	}
	return f.moveFederation(ctx, id, fedMove{what: "fail federation", to: FederationFailed, topic: TopicFederationFailed,
		at: "completed_at", reason: reason,
		before: func(tx pgx.Tx, now time.Time) ([]event, error) {
			rows, err := tx.Query(ctx, `UPDATE fl_rounds SET status = $3, completed_at = $4, error = $5
				WHERE federation_id = $1 AND status = $2 RETURNING `+roundCols, id, RoundStarted, RoundFailed, now,
				"federation failed: "+reason)
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
			return evs, nil
		}})
}

// GetFederation returns one federation.
func (f *FL) GetFederation(ctx context.Context, id string) (Federation, error) {
	return get(ctx, f, "federation", "SELECT "+fedCols+" FROM federations WHERE id = $1", id, scanFederation)
}

// ListFederations returns the tenant's federations, oldest first.
func (f *FL) ListFederations(ctx context.Context) ([]Federation, error) {
	return list(ctx, f, "list federations", "SELECT "+fedCols+" FROM federations ORDER BY created_at, id", scanFederation)
}
