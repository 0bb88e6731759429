package postgres

// The expert registry (experts, migrations/0001_core.sql; a tenant table
// since 0006_tenancy.sql, whose tenant_id defaults to the session's
// tenant): a federation's final model becomes a candidate expert through
// FL.RegisterCandidate, on the one write path of the federation resources
// (FL.change), with its outbox event in the same transaction.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ExpertShadow is the status of a candidate expert: it may run beside the
// router and be traced, never vote, until promoted.
const ExpertShadow = "shadow"

// TopicExpertRegistered is the outbox topic of FL.RegisterCandidate.
const TopicExpertRegistered = "fl.expert.registered"

// candidateBudgetMs is a candidate's latency budget.
const candidateBudgetMs = 5

// Expert is an experts row.
type Expert struct {
	ID, Name, Version string
	Status            string
	LatencyBudgetMs   int
	Metrics           json.RawMessage
	ModelArtifactRef  string
	InsertedAt        time.Time
}

const expertCols = `id, name, version, status, latency_budget_ms, metrics, coalesce(model_artifact_ref, ''), inserted_at`

func scanExpert(r pgx.Row) (Expert, error) {
	var x Expert
	err := r.Scan(&x.ID, &x.Name, &x.Version, &x.Status, &x.LatencyBudgetMs, &x.Metrics, &x.ModelArtifactRef, &x.InsertedAt)
	return x, err
}

// RegisterCandidate records artifactID, a checkpoint of the started
// federation fedID, as a candidate expert in shadow mode: name
// "fl-<federation name>", version the federation id, status shadow, a 5 ms
// latency budget, metrics {federation_id, sha256} and the artifact's uri as
// model_artifact_ref; event fl.expert.registered (federation_id,
// artifact_id, status shadow). The row's id is derived from the federation
// and the artifact's sha256. A federation has one candidate: when it has
// one already, that row is returned and nothing is written (no event).
func (f *FL) RegisterCandidate(ctx context.Context, fedID, artifactID string) (Expert, error) {
	var out Expert
	err := f.change(ctx, "register candidate expert", func(tx pgx.Tx, now time.Time) ([]event, error) {
		fed, err := lockFederation(ctx, tx, fedID, true)
		if err != nil {
			return nil, err
		}
		if err := activeFederation(fed, FederationStarted); err != nil {
			return nil, err
		}
		a, err := scanArtifact(tx.QueryRow(ctx, "SELECT "+artifactCols+" FROM model_artifacts WHERE id = $1 AND federation_id = $2",
			artifactID, fedID))
		if err != nil {
			return nil, notFound(err, "artifact", artifactID)
		}
		name, sum := "fl-"+fed.Name, hex.EncodeToString(a.SHA256)
		metrics, err := json.Marshal(map[string]string{"federation_id": fedID, "sha256": sum})
		if err != nil {
			return nil, err
		}
		out, err = scanExpert(tx.QueryRow(ctx, `INSERT INTO experts (id, name, version, status, latency_budget_ms, metrics, model_artifact_ref, inserted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, name, version) DO NOTHING RETURNING `+expertCols,
			candidateID(fedID, sum), name, fedID, ExpertShadow, candidateBudgetMs, metrics, a.URI, now))
		if errors.Is(err, pgx.ErrNoRows) {
			out, err = scanExpert(tx.QueryRow(ctx, "SELECT "+expertCols+" FROM experts WHERE name = $1 AND version = $2", name, fedID))
			return nil, err
		}
		if err != nil {
			return nil, err
		}
		return []event{{TopicExpertRegistered, eventPayload{FederationID: fedID, ArtifactID: artifactID, ExpertID: out.ID, Status: ExpertShadow}}}, nil
	})
	return out, err
}

// candidateID is the uuid of a federation's candidate: the first 16 bytes
// of sha256(federation id "/" artifact sha256 hex), version and variant
// bits set (RFC 9562 version 8).
func candidateID(fedID, sha256Hex string) [16]byte {
	h := sha256.Sum256([]byte(fedID + "/" + sha256Hex))
	var id [16]byte
	copy(id[:], h[:16])
	id[6] = id[6]&0x0f | 0x80
	id[8] = id[8]&0x3f | 0x80
	return id
}

// ListExperts returns the tenant's experts, by name and version: the
// registry's read path (row-level security: another tenant's are never
// seen), so no package outside this one queries experts itself.
func (f *FL) ListExperts(ctx context.Context) ([]Expert, error) {
	return list(ctx, f, "list experts", "SELECT "+expertCols+" FROM experts ORDER BY name, version", scanExpert)
}
