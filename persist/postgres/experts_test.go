package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// experts returns the rows of the expert registry tenant acme sees (a
// tenant table since 0006_tenancy).
func experts(t *testing.T, pool *pgxpool.Pool) []Expert {
	t.Helper()
	var out []Expert
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		if err := WithTenant(context.Background(), tx, "acme"); err != nil {
			return err
		}
		rows, err := tx.Query(context.Background(), "SELECT "+expertCols+" FROM experts ORDER BY name, version")
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Expert, error) { return scanExpert(r) })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRegisterCandidate: a started federation's checkpoint becomes a shadow
// candidate expert with its outbox event, in one transaction; registering
// again returns the same row and writes nothing; a refused registration
// (federation not started, artifact unknown or of another federation or
// tenant) writes no row and no event.
func TestRegisterCandidate(t *testing.T) {
	ctx := context.Background()
	pool, _ := migratedPool(t)
	fl := newFL(t, pool, "acme")
	input := FederationInput{Name: "momentum", SpecYAML: specYAML, CreatedBy: "alice"}
	fed := must[Federation](t, "create")(fl.CreateFederation(ctx, input))
	fed = must[Federation](t, "start")(fl.StartFederation(ctx, fed.ID))
	sum := sha256.Sum256([]byte("final checkpoint"))
	art := must[Artifact](t, "artifact")(fl.RecordArtifact(ctx, fed.ID, "", "s3://models/final.safetensors", sum[:], 42, "safetensors"))
	other := must[Federation](t, "create other")(fl.CreateFederation(ctx, input))
	other = must[Federation](t, "start other")(fl.StartFederation(ctx, other.ID))
	otherArt := must[Artifact](t, "other artifact")(fl.RecordArtifact(ctx, other.ID, "", "s3://models/other.safetensors", sum[:], 42, "safetensors"))
	done := must[Federation](t, "create done")(fl.CreateFederation(ctx, input))
	done = must[Federation](t, "start done")(fl.StartFederation(ctx, done.ID))
	doneArt := must[Artifact](t, "done artifact")(fl.RecordArtifact(ctx, done.ID, "", "s3://models/done.safetensors", sum[:], 42, "safetensors"))
	must[Federation](t, "complete done")(fl.CompleteFederation(ctx, done.ID))
	const missing = "00000000-0000-0000-0000-000000000000"

	refused := func(name string, want error, f *FL, fedID, artID string) {
		t.Helper()
		before, rows, evs := flSnapshot(t, pool, "acme"), len(experts(t, pool)), len(flEvents(t, pool, "acme"))
		if _, err := f.RegisterCandidate(ctx, fedID, artID); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
		if after := flSnapshot(t, pool, "acme"); after != before || len(experts(t, pool)) != rows || len(flEvents(t, pool, "acme")) != evs {
			t.Errorf("%s: a refused registration wrote", name)
		}
	}
	refused("completed federation", ErrInvalidTransition, fl, done.ID, doneArt.ID)
	refused("unknown artifact", ErrNotFound, fl, fed.ID, missing)
	refused("another federation's artifact", ErrNotFound, fl, fed.ID, otherArt.ID)
	refused("another tenant", ErrNotFound, newFL(t, pool, "intruder"), fed.ID, art.ID)

	x := must[Expert](t, "register")(fl.RegisterCandidate(ctx, fed.ID, art.ID))
	want := candidateID(fed.ID, hex.EncodeToString(sum[:]))
	var metrics map[string]string
	if err := json.Unmarshal(x.Metrics, &metrics); err != nil {
		t.Fatal(err)
	}
	if x.ID != uuidString(want) || x.Name != "fl-momentum" || x.Version != fed.ID || x.Status != ExpertShadow || x.LatencyBudgetMs != 5 ||
		x.ModelArtifactRef != art.URI || metrics["federation_id"] != fed.ID || metrics["sha256"] != hex.EncodeToString(sum[:]) || x.InsertedAt.IsZero() {
		t.Fatalf("candidate %+v (metrics %v), want id %s", x, metrics, uuidString(want))
	}
	if rows := experts(t, pool); len(rows) != 1 || rows[0].ID != x.ID {
		t.Fatalf("experts %+v", rows)
	}
	// The read path: the tenant's own candidate, none for another tenant.
	if xs, err := fl.ListExperts(ctx); err != nil || len(xs) != 1 || xs[0].ID != x.ID || xs[0].Status != ExpertShadow || xs[0].ModelArtifactRef != art.URI {
		t.Fatalf("ListExperts: %+v, %v; want [%+v]", xs, err, x)
	}
	if xs, err := newFL(t, pool, "intruder").ListExperts(ctx); err != nil || len(xs) != 0 {
		t.Fatalf("ListExperts of another tenant: %+v, %v", xs, err)
	}
	evs := flEvents(t, pool, "acme")
	last := evs[len(evs)-1]
	if last.Topic != TopicExpertRegistered || last.Payload != (eventPayload{FederationID: fed.ID, ArtifactID: art.ID, ExpertID: x.ID, Status: ExpertShadow}) {
		t.Fatalf("last event %+v", last)
	}
	if n := slices.Index(topics(evs), TopicExpertRegistered); n != len(evs)-1 {
		t.Fatalf("events %v: want one %s, last", topics(evs), TopicExpertRegistered)
	}

	// Again, even with another checkpoint: the federation's candidate stays.
	second := must[Artifact](t, "second artifact")(fl.RecordArtifact(ctx, fed.ID, "", "s3://models/second.safetensors", sum[:], 7, "safetensors"))
	before := flSnapshot(t, pool, "acme")
	again := must[Expert](t, "register again")(fl.RegisterCandidate(ctx, fed.ID, second.ID))
	if again.ID != x.ID || again.ModelArtifactRef != art.URI || !again.InsertedAt.Equal(x.InsertedAt) {
		t.Fatalf("second registration %+v, first %+v", again, x)
	}
	if after := flSnapshot(t, pool, "acme"); after != before || len(experts(t, pool)) != 1 {
		t.Fatal("a second registration wrote")
	}
}

// uuidString formats a uuid as Postgres prints it.
func uuidString(id [16]byte) string {
	h := hex.EncodeToString(id[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
