package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

const specYAML = "name: t\nmodel_ref: expert:mlp_head\nstrategy: {kind: fedavg}\n"

// flTables are the tables FL writes.
var flTables = []string{"federations", "fl_rounds", "client_leases", "model_artifacts", "metrics_rollups", "outbox"}

// flSnapshot fingerprints every row of the FL tables the tenant sees: any
// insert, update or delete changes it.
func flSnapshot(t *testing.T, pool *pgxpool.Pool, tenant string) string {
	t.Helper()
	ctx := context.Background()
	var out string
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, tenant); err != nil {
			return err
		}
		for _, table := range flTables {
			var n int
			var digest string
			if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(r::text, ',' ORDER BY r::text)), '')
				FROM %s r`, table)).Scan(&n, &digest); err != nil {
				return err
			}
			out += fmt.Sprintf("%s:%d:%s ", table, n, digest)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flEvent is an outbox row written by FL.
type flEvent struct {
	Topic   string
	Payload eventPayload
}

// flEvents returns the tenant's fl events in outbox order, checking that
// they are events (event_id, no journal position).
func flEvents(t *testing.T, pool *pgxpool.Pool, tenant string) []flEvent {
	t.Helper()
	ctx := context.Background()
	var out []flEvent
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := WithTenant(ctx, tx, tenant); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT topic, payload, tenant_id, event_id IS NOT NULL, journal_id IS NULL AND journal_offset IS NULL
			FROM outbox WHERE topic LIKE 'fl.%' ORDER BY id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var e flEvent
			var payload []byte
			var rowTenant string
			var hasID, noJournal bool
			if err := rows.Scan(&e.Topic, &payload, &rowTenant, &hasID, &noJournal); err != nil {
				return err
			}
			if err := json.Unmarshal(payload, &e.Payload); err != nil {
				return fmt.Errorf("payload of %s: %w: %s", e.Topic, err, payload)
			}
			if rowTenant != tenant || !hasID || !noJournal {
				return fmt.Errorf("%s: tenant %q, event_id %v, journal columns NULL %v", e.Topic, rowTenant, hasID, noJournal)
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func topics(evs []flEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Topic)
	}
	return out
}

func newFL(t *testing.T, pool *pgxpool.Pool, tenant string) *FL {
	t.Helper()
	f, err := NewFL(pool, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// startedFederation is a started federation of tenant acme on a fresh
// database.
func startedFederation(t *testing.T) (*pgxpool.Pool, *FL, Federation) {
	t.Helper()
	ctx := context.Background()
	pool, _ := migratedPool(t)
	fl := newFL(t, pool, "acme")
	fed := must[Federation](t, "create")(fl.CreateFederation(ctx, FederationInput{Name: "t", SpecYAML: specYAML, CreatedBy: "alice"}))
	return pool, fl, must[Federation](t, "start")(fl.StartFederation(ctx, fed.ID))
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// TestFederationMigration: 0005 makes the five tables tenant tables under
// forced RLS with both policies, readable by thunderline_system.
func TestFederationMigration(t *testing.T) {
	ctx := context.Background()
	pool, _ := migratedPool(t)
	rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_class c
		WHERE c.relname = ANY($1) AND c.relrowsecurity AND c.relforcerowsecurity
		AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation')
		AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'system_read')
		AND has_table_privilege('thunderline_system', c.oid, 'SELECT')
		AND NOT has_table_privilege('thunderline_system', c.oid, 'INSERT')
		ORDER BY 1`, flTables[:5])
	if err != nil {
		t.Fatal(err)
	}
	secured, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"client_leases", "federations", "fl_rounds", "metrics_rollups", "model_artifacts"}; !slices.Equal(secured, want) {
		t.Errorf("secured tables %v, want %v", secured, want)
	}
	// An outbox row is a journal record's or an event's, never neither.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		WithTenant(ctx, tx, "a")
		_, err := tx.Exec(ctx, "INSERT INTO outbox (tenant_id, topic, payload) VALUES ('a', 'x', '\\x00')")
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
		t.Errorf("outbox row with neither journal position nor event id: %v, want a check violation", err)
	}
}

// TestFederationLifecycle: a whole federation leaves the expected rows and
// exactly the expected events, in order.
func TestFederationLifecycle(t *testing.T) {
	ctx := context.Background()
	pool, _ := migratedPool(t)
	fl := newFL(t, pool, "acme")

	fed := must[Federation](t, "create")(fl.CreateFederation(ctx, FederationInput{Name: "t", SpecYAML: specYAML, CreatedBy: "alice"}))
	if fed.Status != FederationCreated || fed.TenantID != "acme" || fed.SpecYAML != specYAML || fed.CreatedBy != "alice" || fed.StartedAt != nil {
		t.Fatalf("created %+v", fed)
	}
	fed = must[Federation](t, "start")(fl.StartFederation(ctx, fed.ID))
	if fed.Status != FederationStarted || fed.StartedAt == nil {
		t.Fatalf("started %+v", fed)
	}
	expires := time.Now().Add(15 * time.Minute).UTC().Truncate(time.Microsecond)
	var leases []Lease
	for i := range 3 {
		l := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, fmt.Sprintf("client-%d", i), fmt.Sprintf("s3://m/%d.jws", i), expires, 4, 1000))
		if l.Status != LeaseIssued || !l.ExpiresAt.Equal(expires) || l.EpochsMax != 4 || l.TokensMax != 1000 {
			t.Fatalf("issued %+v", l)
		}
		leases = append(leases, l)
	}
	claimed := must[Lease](t, "claim")(fl.ClaimLease(ctx, leases[0].ID, "client-0"))
	if claimed.Status != LeaseClaimed || claimed.ClaimedAt == nil {
		t.Fatalf("claimed %+v", claimed)
	}
	before := flSnapshot(t, pool, "acme")
	again := must[Lease](t, "claim again")(fl.ClaimLease(ctx, leases[0].ID, "client-0"))
	if !again.ClaimedAt.Equal(*claimed.ClaimedAt) || again.Status != LeaseClaimed {
		t.Errorf("second claim changed the lease: %+v, then %+v", claimed, again)
	}
	if after := flSnapshot(t, pool, "acme"); after != before {
		t.Errorf("second claim wrote:\n%s\n%s", before, after)
	}
	joined := must[Lease](t, "join")(fl.JoinClient(ctx, leases[0].ID, "client-0"))
	if joined.Status != LeaseJoined || joined.JoinedAt == nil {
		t.Fatalf("joined %+v", joined)
	}
	round := must[Round](t, "start round")(fl.StartRound(ctx, fed.ID, 1))
	if round.Status != RoundStarted || round.Num != 1 || round.FederationID != fed.ID || round.Metrics != nil {
		t.Fatalf("round %+v", round)
	}
	round = must[Round](t, "complete round")(fl.CompleteRound(ctx, round.ID, json.RawMessage(`{"loss": 0.25, "clients": 1}`)))
	var metrics map[string]float64
	if err := json.Unmarshal(round.Metrics, &metrics); err != nil || metrics["loss"] != 0.25 || round.Status != RoundCompleted || round.CompletedAt == nil {
		t.Fatalf("completed round %+v (%v)", round, err)
	}
	rollup := must[Rollup](t, "aggregate")(fl.RecordAggregate(ctx, round.ID, json.RawMessage(`{"mean_loss": 0.25}`)))
	if rollup.RoundID != round.ID || rollup.FederationID != fed.ID {
		t.Fatalf("rollup %+v", rollup)
	}
	sum := sha256.Sum256([]byte("checkpoint"))
	art := must[Artifact](t, "artifact")(fl.RecordArtifact(ctx, fed.ID, round.ID, "s3://ckpt/r1.safetensors", sum[:], 1234, "safetensors"))
	if art.RoundID != round.ID || !slices.Equal(art.SHA256, sum[:]) || art.SizeBytes != 1234 || art.Format != "safetensors" {
		t.Fatalf("artifact %+v", art)
	}
	final := must[Artifact](t, "final artifact")(fl.RecordArtifact(ctx, fed.ID, "", "s3://ckpt/final.safetensors", sum[:], 1234, "safetensors"))
	if final.RoundID != "" {
		t.Errorf("federation artifact has round %q", final.RoundID)
	}
	fed = must[Federation](t, "complete")(fl.CompleteFederation(ctx, fed.ID))
	if fed.Status != FederationCompleted || fed.CompletedAt == nil || fed.Error != "" {
		t.Fatalf("completed %+v", fed)
	}

	want := []string{TopicFederationCreated, TopicFederationStarted, TopicLeaseIssued, TopicLeaseIssued, TopicLeaseIssued,
		TopicLeaseClaimed, TopicClientJoined, TopicRoundStarted, TopicRoundCompleted, TopicAggregateCompleted,
		TopicArtifactRecorded, TopicArtifactRecorded, TopicFederationCompleted}
	evs := flEvents(t, pool, "acme")
	if got := topics(evs); !slices.Equal(got, want) {
		t.Fatalf("topics\n%v\nwant\n%v", got, want)
	}
	for _, e := range evs {
		if e.Payload.FederationID != fed.ID || e.Payload.Status == "" {
			t.Errorf("%s: payload %+v", e.Topic, e.Payload)
		}
	}
	for i, want := range []eventPayload{
		{FederationID: fed.ID, Status: "created"},
		{FederationID: fed.ID, Status: "started", From: "created"},
		{FederationID: fed.ID, LeaseID: leases[0].ID, ClientID: "client-0", Status: "issued", ExpiresAt: &expires},
		5:  {FederationID: fed.ID, LeaseID: leases[0].ID, ClientID: "client-0", Status: "claimed", From: "issued"},
		6:  {FederationID: fed.ID, LeaseID: leases[0].ID, ClientID: "client-0", Status: "joined", From: "claimed"},
		7:  {FederationID: fed.ID, RoundID: round.ID, RoundNum: 1, Status: "started"},
		8:  {FederationID: fed.ID, RoundID: round.ID, RoundNum: 1, Status: "completed", From: "started"},
		9:  {FederationID: fed.ID, RoundID: round.ID, RoundNum: 1, RollupID: rollup.ID, Status: "completed"},
		10: {FederationID: fed.ID, RoundID: round.ID, ArtifactID: art.ID, Status: "recorded"},
		12: {FederationID: fed.ID, Status: "completed", From: "started"},
	} {
		if want.FederationID == "" {
			continue
		}
		got := evs[i].Payload
		gotExp, wantExp := got.ExpiresAt, want.ExpiresAt
		got.ExpiresAt, want.ExpiresAt = nil, nil
		if got != want || (gotExp == nil) != (wantExp == nil) || (gotExp != nil && !gotExp.Equal(*wantExp)) {
			t.Errorf("event %d %s: payload %+v, want %+v", i, evs[i].Topic, evs[i].Payload, want)
		}
	}

	// The getters read back what was written.
	if got := must[Federation](t, "get")(fl.GetFederation(ctx, fed.ID)); got.Status != FederationCompleted || !got.CompletedAt.Equal(*fed.CompletedAt) {
		t.Errorf("GetFederation %+v", got)
	}
	if fs := must[[]Federation](t, "list")(fl.ListFederations(ctx)); len(fs) != 1 || fs[0].ID != fed.ID {
		t.Errorf("ListFederations %+v", fs)
	}
	ls := must[[]Lease](t, "leases")(fl.ListLeases(ctx, fed.ID))
	if len(ls) != 3 || ls[0].Status != LeaseJoined || ls[1].Status != LeaseIssued || ls[2].ClientID != "client-2" {
		t.Errorf("ListLeases %+v", ls)
	}
	if l := must[Lease](t, "lease")(fl.GetLease(ctx, leases[0].ID)); l.Status != LeaseJoined {
		t.Errorf("GetLease %+v", l)
	}
	if rs := must[[]Round](t, "rounds")(fl.ListRounds(ctx, fed.ID)); len(rs) != 1 || rs[0].Status != RoundCompleted {
		t.Errorf("ListRounds %+v", rs)
	}
	if r := must[Round](t, "round")(fl.GetRound(ctx, round.ID)); string(r.Metrics) == "" {
		t.Errorf("GetRound %+v", r)
	}
	if as := must[[]Artifact](t, "artifacts")(fl.ListArtifacts(ctx, fed.ID)); len(as) != 2 || as[0].ID != art.ID {
		t.Errorf("ListArtifacts %+v", as)
	}
	if rs := must[[]Rollup](t, "rollups")(fl.ListRollups(ctx, fed.ID)); len(rs) != 1 || string(rs[0].Aggregates) != `{"mean_loss": 0.25}` {
		t.Errorf("ListRollups %+v", rs)
	}
}

// TestFederationInvalidTransitions: every refused change is the right
// error and writes nothing.
func TestFederationInvalidTransitions(t *testing.T) {
	ctx := context.Background()
	pool, _ := migratedPool(t)
	fl := newFL(t, pool, "acme")
	input := FederationInput{Name: "t", SpecYAML: specYAML, CreatedBy: "alice"}
	created := must[Federation](t, "create")(fl.CreateFederation(ctx, input))
	fed := must[Federation](t, "create")(fl.CreateFederation(ctx, input))
	fed = must[Federation](t, "start")(fl.StartFederation(ctx, fed.ID))
	exp := time.Now().Add(time.Hour)
	issued := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "c-issued", "m", exp, 0, 0))
	claimed := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "c-claimed", "m", exp, 0, 0))
	claimed = must[Lease](t, "claim")(fl.ClaimLease(ctx, claimed.ID, "c-claimed"))
	joined := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "c-joined", "m", exp, 0, 0))
	must[Lease](t, "claim")(fl.ClaimLease(ctx, joined.ID, "c-joined"))
	joined = must[Lease](t, "join")(fl.JoinClient(ctx, joined.ID, "c-joined"))
	dropped := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "c-dropped", "m", exp, 0, 0))
	must[Lease](t, "claim")(fl.ClaimLease(ctx, dropped.ID, "c-dropped"))
	must[Lease](t, "join")(fl.JoinClient(ctx, dropped.ID, "c-dropped"))
	dropped = must[Lease](t, "drop")(fl.DropClient(ctx, dropped.ID, "went away"))
	if dropped.Status != LeaseDropped || dropped.Reason != "went away" || dropped.EndedAt == nil {
		t.Fatalf("dropped %+v", dropped)
	}
	r1 := must[Round](t, "round 1")(fl.StartRound(ctx, fed.ID, 1))
	must[Round](t, "complete 1")(fl.CompleteRound(ctx, r1.ID, nil))
	r2 := must[Round](t, "round 2")(fl.StartRound(ctx, fed.ID, 2))
	failedFed := must[Federation](t, "create")(fl.CreateFederation(ctx, input))
	failedFed = must[Federation](t, "fail")(fl.FailFederation(ctx, failedFed.ID, errors.New("no clients")))
	if failedFed.Status != FederationFailed || failedFed.Error != "no clients" || failedFed.CompletedAt == nil {
		t.Fatalf("failed %+v", failedFed)
	}
	sum := sha256.Sum256(nil)
	const missing = "00000000-0000-0000-0000-000000000000"

	f := func(name string, wantErr error, from, to string, op func() error) {
		t.Helper()
		before := flSnapshot(t, pool, "acme")
		err := op()
		if !errors.Is(err, wantErr) {
			t.Errorf("%s: %v, want %v", name, err, wantErr)
		}
		if from != "" {
			var te *TransitionError
			if !errors.As(err, &te) || te.From != from || te.To != to {
				t.Errorf("%s: %v, want a transition error %s → %s", name, err, from, to)
			}
		}
		if after := flSnapshot(t, pool, "acme"); after != before {
			t.Errorf("%s wrote:\n%s\n%s", name, before, after)
		}
	}
	ignore2 := func(_ any, err error) error { return err }
	// federations
	f("start a started federation", ErrInvalidTransition, "started", "started", func() error { return ignore2(fl.StartFederation(ctx, fed.ID)) })
	f("start a failed federation", ErrInvalidTransition, "failed", "started", func() error { return ignore2(fl.StartFederation(ctx, failedFed.ID)) })
	f("complete a created federation", ErrInvalidTransition, "created", "completed", func() error { return ignore2(fl.CompleteFederation(ctx, created.ID)) })
	f("complete with a round in progress", ErrInvalidTransition, "", "", func() error { return ignore2(fl.CompleteFederation(ctx, fed.ID)) })
	f("fail a failed federation", ErrInvalidTransition, "failed", "failed", func() error { return ignore2(fl.FailFederation(ctx, failedFed.ID, nil)) })
	f("start a missing federation", ErrNotFound, "", "", func() error { return ignore2(fl.StartFederation(ctx, missing)) })
	// rounds
	f("round of a created federation", ErrInvalidTransition, "", "", func() error { return ignore2(fl.StartRound(ctx, created.ID, 1)) })
	f("round while one is in progress", ErrInvalidTransition, "", "", func() error { return ignore2(fl.StartRound(ctx, fed.ID, 3)) })
	f("complete a completed round", ErrInvalidTransition, "completed", "completed", func() error { return ignore2(fl.CompleteRound(ctx, r1.ID, nil)) })
	f("fail a completed round", ErrInvalidTransition, "completed", "failed", func() error { return ignore2(fl.FailRound(ctx, r1.ID, nil)) })
	f("complete a missing round", ErrNotFound, "", "", func() error { return ignore2(fl.CompleteRound(ctx, missing, nil)) })
	// leases
	f("join an issued lease", ErrInvalidTransition, "issued", "joined", func() error { return ignore2(fl.JoinClient(ctx, issued.ID, "c-issued")) })
	f("drop a claimed lease", ErrInvalidTransition, "claimed", "dropped", func() error { return ignore2(fl.DropClient(ctx, claimed.ID, "x")) })
	f("complete an issued lease", ErrInvalidTransition, "issued", "completed", func() error { return ignore2(fl.CompleteLease(ctx, issued.ID)) })
	f("claim a joined lease", ErrInvalidTransition, "joined", "claimed", func() error { return ignore2(fl.ClaimLease(ctx, joined.ID, "c-joined")) })
	f("join a joined lease", ErrInvalidTransition, "joined", "joined", func() error { return ignore2(fl.JoinClient(ctx, joined.ID, "c-joined")) })
	f("drop a dropped lease", ErrInvalidTransition, "dropped", "dropped", func() error { return ignore2(fl.DropClient(ctx, dropped.ID, "x")) })
	f("second lease of a client", ErrExists, "", "", func() error { return ignore2(fl.IssueLease(ctx, fed.ID, "c-issued", "m", exp, 0, 0)) })
	f("lease on a failed federation", ErrInvalidTransition, "", "", func() error { return ignore2(fl.IssueLease(ctx, failedFed.ID, "c", "m", exp, 0, 0)) })
	f("lease on a missing federation", ErrNotFound, "", "", func() error { return ignore2(fl.IssueLease(ctx, missing, "c", "m", exp, 0, 0)) })
	f("claim a missing lease", ErrNotFound, "", "", func() error { return ignore2(fl.ClaimLease(ctx, missing, "c")) })
	// aggregates and artifacts
	f("artifact of a created federation", ErrInvalidTransition, "", "", func() error {
		return ignore2(fl.RecordArtifact(ctx, created.ID, "", "s3://x", sum[:], 1, "safetensors"))
	})
	other := must[Federation](t, "create")(fl.CreateFederation(ctx, input))
	other = must[Federation](t, "start")(fl.StartFederation(ctx, other.ID))
	f("artifact of another federation's round", ErrNotFound, "", "", func() error {
		return ignore2(fl.RecordArtifact(ctx, other.ID, r1.ID, "s3://x", sum[:], 1, "safetensors"))
	})
	f("artifact with a bad digest", nil, "", "", func() error {
		if _, err := fl.RecordArtifact(ctx, other.ID, "", "s3://x", sum[:31], 1, "safetensors"); err == nil {
			return errors.New("accepted")
		}
		return nil
	})

	// Failing the federation fails its round in progress, in one change.
	before := len(flEvents(t, pool, "acme"))
	must[Federation](t, "fail")(fl.FailFederation(ctx, fed.ID, errors.New("server lost")))
	evs := flEvents(t, pool, "acme")[before:]
	if got := topics(evs); !slices.Equal(got, []string{TopicRoundFailed, TopicFederationFailed}) {
		t.Errorf("fail federation: topics %v", got)
	}
	if r := must[Round](t, "round 2")(fl.GetRound(ctx, r2.ID)); r.Status != RoundFailed || r.Error != "federation failed: server lost" {
		t.Errorf("round in progress after the federation failed: %+v", r)
	}
	f("aggregate of a failed federation's round", ErrInvalidTransition, "", "", func() error {
		return ignore2(fl.RecordAggregate(ctx, r2.ID, json.RawMessage(`{}`)))
	})
	f("complete a failed federation", ErrInvalidTransition, "failed", "completed", func() error { return ignore2(fl.CompleteFederation(ctx, fed.ID)) })
}

// TestLeaseExpiry: a lease past its expiry cannot be claimed or joined;
// ExpireLeases moves it to expired with one event.
func TestLeaseExpiry(t *testing.T) {
	ctx := context.Background()
	pool, fl, fed := startedFederation(t)
	now := time.Now()
	if _, err := fl.IssueLease(ctx, fed.ID, "c0", "m", now.Add(-time.Second), 0, 0); err == nil {
		t.Error("issued a lease that expired already")
	}
	short := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "c1", "m", now.Add(time.Minute), 0, 0))
	claimed := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "c2", "m", now.Add(time.Minute), 0, 0))
	must[Lease](t, "claim")(fl.ClaimLease(ctx, claimed.ID, "c2"))
	long := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "c3", "m", now.Add(time.Hour), 0, 0))

	fl.now = func() time.Time { return now.Add(2 * time.Minute) } // the short leases are past their expiry
	before := flSnapshot(t, pool, "acme")
	if _, err := fl.ClaimLease(ctx, short.ID, "c1"); !errors.Is(err, ErrLeaseExpired) {
		t.Errorf("claim past expiry: %v", err)
	}
	if _, err := fl.JoinClient(ctx, claimed.ID, "c2"); !errors.Is(err, ErrLeaseExpired) {
		t.Errorf("join past expiry: %v", err)
	}
	if after := flSnapshot(t, pool, "acme"); after != before {
		t.Errorf("refused claim or join wrote:\n%s\n%s", before, after)
	}
	n := len(flEvents(t, pool, "acme"))
	expired := must[[]Lease](t, "expire")(fl.ExpireLeases(ctx, fed.ID))
	if len(expired) != 2 || expired[0].ID != short.ID || expired[1].ID != claimed.ID || expired[0].Status != LeaseExpired || expired[0].EndedAt == nil {
		t.Fatalf("expired %+v", expired)
	}
	evs := flEvents(t, pool, "acme")[n:]
	if got := topics(evs); !slices.Equal(got, []string{TopicLeaseExpired, TopicLeaseExpired}) ||
		evs[0].Payload.From != LeaseIssued || evs[1].Payload.From != LeaseClaimed || evs[1].Payload.LeaseID != claimed.ID {
		t.Errorf("expiry events %+v", evs)
	}
	if again := must[[]Lease](t, "expire")(fl.ExpireLeases(ctx, fed.ID)); len(again) != 0 {
		t.Errorf("second ExpireLeases expired %+v", again)
	}
	if _, err := fl.ClaimLease(ctx, short.ID, "c1"); !errors.Is(err, ErrLeaseExpired) {
		t.Errorf("claim of an expired lease: %v", err)
	}
	if l := must[Lease](t, "claim")(fl.ClaimLease(ctx, long.ID, "c3")); l.Status != LeaseClaimed {
		t.Errorf("claim of a live lease: %+v", l)
	}
}

// TestLeaseTaken: a client cannot claim or join another client's lease.
func TestLeaseTaken(t *testing.T) {
	ctx := context.Background()
	pool, fl, fed := startedFederation(t)
	l := must[Lease](t, "issue")(fl.IssueLease(ctx, fed.ID, "mine", "m", time.Now().Add(time.Hour), 0, 0))
	before := flSnapshot(t, pool, "acme")
	if _, err := fl.ClaimLease(ctx, l.ID, "thief"); !errors.Is(err, ErrLeaseTaken) {
		t.Errorf("claim by another client: %v", err)
	}
	if after := flSnapshot(t, pool, "acme"); after != before {
		t.Errorf("refused claim wrote:\n%s\n%s", before, after)
	}
	must[Lease](t, "claim")(fl.ClaimLease(ctx, l.ID, "mine"))
	if _, err := fl.ClaimLease(ctx, l.ID, "thief"); !errors.Is(err, ErrLeaseTaken) {
		t.Errorf("claim of a claimed lease by another client: %v", err)
	}
	if _, err := fl.JoinClient(ctx, l.ID, "thief"); !errors.Is(err, ErrLeaseTaken) {
		t.Errorf("join by another client: %v", err)
	}
	if got := must[Lease](t, "get")(fl.GetLease(ctx, l.ID)); got.Status != LeaseClaimed || got.ClientID != "mine" {
		t.Errorf("lease after refused claims %+v", got)
	}
}

// TestFederationRLS: tenants see and touch only their own federation rows,
// as the engine's ordinary (non-superuser) role; the system role reads all.
func TestFederationRLS(t *testing.T) {
	ctx := context.Background()
	pool, dsn := migratedPool(t)
	var bypass, super bool
	pool.QueryRow(ctx, "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&bypass, &super)
	if bypass || super {
		t.Fatalf("test role bypasses RLS (bypassrls %v, superuser %v)", bypass, super)
	}
	a, b := newFL(t, pool, "a"), newFL(t, pool, "b")
	fedA := must[Federation](t, "create a")(a.CreateFederation(ctx, FederationInput{Name: "a", SpecYAML: specYAML, CreatedBy: "x"}))
	must[Federation](t, "start a")(a.StartFederation(ctx, fedA.ID))
	leaseA := must[Lease](t, "issue a")(a.IssueLease(ctx, fedA.ID, "c", "m", time.Now().Add(time.Hour), 0, 0))
	roundA := must[Round](t, "round a")(a.StartRound(ctx, fedA.ID, 1))
	must[Federation](t, "create b")(b.CreateFederation(ctx, FederationInput{Name: "b", SpecYAML: specYAML, CreatedBy: "y"}))

	if fs := must[[]Federation](t, "list b")(b.ListFederations(ctx)); len(fs) != 1 || fs[0].Name != "b" {
		t.Errorf("tenant b lists %+v", fs)
	}
	if ls := must[[]Lease](t, "leases b")(b.ListLeases(ctx, fedA.ID)); len(ls) != 0 {
		t.Errorf("tenant b lists a's leases %+v", ls)
	}
	before := flSnapshot(t, pool, "a")
	for name, err := range map[string]error{
		"get":       ignoreValue(b.GetFederation(ctx, fedA.ID)),
		"start":     ignoreValue(b.StartFederation(ctx, fedA.ID)),
		"fail":      ignoreValue(b.FailFederation(ctx, fedA.ID, nil)),
		"issue":     ignoreValue(b.IssueLease(ctx, fedA.ID, "c2", "m", time.Now().Add(time.Hour), 0, 0)),
		"claim":     ignoreValue(b.ClaimLease(ctx, leaseA.ID, "c")),
		"round":     ignoreValue(b.StartRound(ctx, fedA.ID, 2)),
		"complete":  ignoreValue(b.CompleteRound(ctx, roundA.ID, nil)),
		"get lease": ignoreValue(b.GetLease(ctx, leaseA.ID)),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("tenant b %s on a's rows: %v, want ErrNotFound", name, err)
		}
	}
	if after := flSnapshot(t, pool, "a"); after != before {
		t.Errorf("tenant b changed a's rows:\n%s\n%s", before, after)
	}
	if evs := flEvents(t, pool, "b"); len(evs) != 1 || evs[0].Topic != TopicFederationCreated {
		t.Errorf("tenant b sees events %v", topics(evs))
	}

	// Raw SQL as b: a row with a's tenant id is refused by RLS; a row of b
	// pointing at a's federation by the (tenant_id, federation_id) key.
	var pgErr *pgconn.PgError
	asB := func(sql string, args ...any) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := WithTenant(ctx, tx, "b"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, sql, args...)
			return err
		})
	}
	err := asB("INSERT INTO federations (tenant_id, name, spec_yaml, created_by) VALUES ('a', 'x', 'x', 'x')")
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("insert of a's federation as b: %v, want an RLS violation (42501)", err)
	}
	err = asB("INSERT INTO fl_rounds (tenant_id, federation_id, round_num) VALUES ('a', $1, 2)", fedA.ID)
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
		t.Errorf("insert of a's round as b: %v, want 42501", err)
	}
	err = asB("INSERT INTO fl_rounds (tenant_id, federation_id, round_num) VALUES ('b', $1, 2)", fedA.ID)
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" {
		t.Errorf("b's round on a's federation: %v, want a foreign key violation (23503)", err)
	}
	err = asB("UPDATE federations SET status = 'failed'")
	if err != nil {
		t.Errorf("update as b: %v", err)
	}
	if got := must[Federation](t, "get a")(a.GetFederation(ctx, fedA.ID)); got.Status != FederationStarted {
		t.Errorf("b's UPDATE reached a's federation: %+v", got)
	}
	if after := flSnapshot(t, pool, "a"); after != before {
		t.Errorf("raw SQL as b changed a's rows")
	}

	sys, err := pgxpool.New(ctx, asUser(t, dsn, "thunderline_system"))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	var n int
	if err := sys.QueryRow(ctx, "SELECT count(*) FROM federations").Scan(&n); err != nil || n != 2 {
		t.Errorf("system role sees %d federations (%v), want 2", n, err)
	}
	if _, err := sys.Exec(ctx, "DELETE FROM client_leases"); err == nil {
		t.Error("system role deleted leases")
	}
}

func ignoreValue[T any](_ T, err error) error { return err }
