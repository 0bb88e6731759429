package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

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

const roundCols = `id, federation_id, round_num, status, metrics_json, started_at, completed_at, coalesce(error, '')`

func scanRound(r pgx.Row) (Round, error) {
	var x Round
	err := r.Scan(&x.ID, &x.FederationID, &x.Num, &x.Status, &x.Metrics, &x.StartedAt, &x.CompletedAt, &x.Error)
	return x, err
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

// GetRound returns one round.
func (f *FL) GetRound(ctx context.Context, id string) (Round, error) {
	return get(ctx, f, "round", "SELECT "+roundCols+" FROM fl_rounds WHERE id = $1", id, scanRound)
}

// ListRounds returns a federation's rounds in order.
func (f *FL) ListRounds(ctx context.Context, fedID string) ([]Round, error) {
	return list(ctx, f, "list rounds", "SELECT "+roundCols+" FROM fl_rounds WHERE federation_id = $1 ORDER BY round_num", scanRound, fedID)
}
