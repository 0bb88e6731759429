package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// What rounds leave behind: their aggregated metrics (rollups) and model
// checkpoints (artifacts).

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

// lockStarted locks federation id against status changes (FOR SHARE) and
// checks that it is started: what a round's records need.
func lockStarted(ctx context.Context, tx pgx.Tx, id string) error {
	fed, err := lockFederation(ctx, tx, id, true)
	if err != nil {
		return err
	}
	return activeFederation(fed, FederationStarted)
}

// roundFederation is the federation of round id.
func roundFederation(ctx context.Context, tx pgx.Tx, id string) (string, error) {
	var fedID string
	err := tx.QueryRow(ctx, "SELECT federation_id FROM fl_rounds WHERE id = $1", id).Scan(&fedID)
	return fedID, notFound(err, "round", id)
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
		fedID, err := roundFederation(ctx, tx, roundID)
		if err != nil {
			return nil, err
		}
		if err := lockStarted(ctx, tx, fedID); err != nil {
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
		if err := lockStarted(ctx, tx, fedID); err != nil {
			return nil, err
		}
		var round *string
		if roundID != "" {
			owner, err := roundFederation(ctx, tx, roundID)
			if err != nil {
				return nil, err
			}
			if owner != fedID {
				return nil, fmt.Errorf("round %s is not of federation %s: %w", roundID, fedID, ErrNotFound)
			}
			round = &roundID
		}
		var err error
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

// ListArtifacts returns a federation's artifacts, oldest first.
func (f *FL) ListArtifacts(ctx context.Context, fedID string) ([]Artifact, error) {
	return list(ctx, f, "list artifacts", "SELECT "+artifactCols+" FROM model_artifacts WHERE federation_id = $1 ORDER BY created_at, id", scanArtifact, fedID)
}

// ListRollups returns a federation's metrics rollups, oldest first.
func (f *FL) ListRollups(ctx context.Context, fedID string) ([]Rollup, error) {
	return list(ctx, f, "list rollups", "SELECT "+rollupCols+" FROM metrics_rollups WHERE federation_id = $1 ORDER BY created_at, id", scanRollup, fedID)
}
