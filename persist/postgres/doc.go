// Package postgres is the queryable store (pgx v5): the schema of seed 004
// §8 as embedded migrations, row-level security per tenant, and the Shipper
// that copies a run's journal into it exactly once.
//
// It owns the SQL schema and the rows it ships. It never writes the
// journal, never blocks the engine (the shipper only reads journal files)
// and never imports engine (engine imports persist); the journal record
// kinds are copied from engine/runjournal/kinds.go in records.go.
//
// # Tables (migrations/*.sql, applied by Migrate)
//
//	raw_market_ticks   one row per tick record; partitioned by month on ts
//	raw_edgar_docs     one row per EDGARDoc record (parsed filing: sections,
//	                   facts, issues, raw sha256); unique per (tenant, hash)
//	feature_windows    one row per window record; partitioned by month on
//	                   window_start; labels/status filled by label records
//	window_labels      one row per label record, as journaled
//	decision_traces    one row per trace record (gate scores, selected
//	                   experts, actions, blended action, PnL, risk flags as
//	                   jsonb; behavior_embedding and hashes as bytea)
//	lineage_edges      one row per edge record
//	experts            the expert registry (per tenant since 0006)
//	export_jobs        training-slice exports
//	rejects            engine rejects (source 'engine'), EDGAR documents the
//	                   engine could not read (source 'edgar'), and records
//	                   the shipper could not decode (source 'shipper':
//	                   reason, raw bytes, offset)
//	outbox             run meta, end, router and control records, and the
//	                   federation events (fl.*, event_id, no journal
//	                   position), for consumers outside the database
//	                   (published_at NULL until taken)
//	federations, fl_rounds, client_leases, model_artifacts, metrics_rollups
//	                   the federated-training resources (federation.go: one
//	                   write path, each change with its outbox event)
//	journal_symbols    the symbol records, so a resumed shipper names ticks
//	shipper_offsets    (tenant_id, journal_id, next_offset, updated_at)
//	tenant_roles       (role_name, tenant_id): the login roles' tenants
//	schema_migrations  applied migrations
//
// Indexes are the seed's: feature_windows (tenant_id, kind, key,
// window_start DESC) and (tenant_id, feature_schema_version, inserted_at);
// decision_traces (feature_window_id) and (tenant_id, inserted_at DESC);
// lineage_edges (from_id) and (to_id). Natural keys make a replayed batch
// harmless: feature_windows (tenant_id, id, window_start) (the window id is
// derived from what identifies the window, its hash is stored beside it),
// decision_traces (tenant_id, id), window_labels (tenant_id, window_id,
// hash), the other shipped tables (tenant_id, journal_id, journal_offset).
//
// Partitions: every monthly partitioned table has a DEFAULT partition, and
// the SQL function ensure_partitions(months_ahead) (EnsurePartitions)
// creates this month's and the next months' partitions, secured like their
// parent; Migrate runs it for 3 months ahead; run it from a daily timer.
// Retention drops whole months: drop_partitions_before(parent, cutoff).
//
// # Row-level security and roles
//
// Every table with a tenant's data (shipper_offsets and experts included)
// has tenant_id text NOT NULL, ENABLE and FORCE ROW LEVEL SECURITY, and
// two policies: tenant_isolation (every command: rows whose tenant_id =
// (SELECT thunderline_tenant()), for reading and for writing) and
// system_read (SELECT of every row, for the role thunderline_system only).
// Partitions get the same policies (a partition read directly does not go
// through its parent's).
//
// thunderline_tenant() (0006_tenancy.sql; STABLE, SECURITY DEFINER,
// search_path pg_catalog, the schema, pg_temp) is the binding of
// session_user in tenant_roles. A session_user with no binding gets the
// setting thunderline.tenant (WithTenant, per transaction) only when it is
// the migration role (or a member of it) or thunderline_system; any other
// role gets NULL and sees no row.
//
// Roles: the migration role runs Migrate and owns every table, function
// and partition. The engine logs in as one role per tenant, a member of
// the NOLOGIN group thunderline_engine, which holds only the DML the
// shipper and FL issue (no ownership, DDL, DELETE or TRUNCATE; SELECT on
// schema_migrations, so Migrate on a current schema is a no-op for it).
// CheckTenant (the Shipper at each session, engine/ship at connect)
// refuses a role bound to another tenant (ErrWrongTenant) or an engine
// role bound to none (ErrUnboundRole). Partitions come from the SECURITY
// DEFINER thunderline_ensure_partitions (at most 36 months ahead);
// drop_partitions_before is the migration role's only (CheckRetention,
// ErrRetentionRole). Migrate creates thunderline_system and
// thunderline_engine if they are missing, which needs CREATEROLE;
// otherwise create them beforehand. The single-tenant default (the test
// clusters): the engine connects as the migration role, unbound, and
// chooses its tenant per transaction, as before 0006 — not isolation.
//
// # The shipper, exactly once
//
// A Shipper tails one run's journal directory (journal.NewReader from the
// stored offset; at io.EOF it waits Poll and reads again; with
// ShipperOptions.Acked it reads only acknowledged records) for one lane
// (ShipperOptions.Lane: everything, the decision data, or the raw ticks),
// on two goroutines: one reads and decodes the next batch while the
// session's own writes the one before. A batch goes when it keeps
// BatchSize rows of its lane, or once MaxDelay old (a backlog's: Poll) and
// the writer is free; a busy writer's next batch keeps growing. One batch
// is one transaction, by one of two paths:
//
// The staging path (any login; row-level security binds it):
//
//  1. set the tenant; SELECT next_offset ... FOR UPDATE (tenant named) and
//     check it is the batch's first offset (else another shipper moved it:
//     start over);
//  2. COPY each table's rows into a temporary staging table (PostgreSQL
//     refuses COPY FROM into a table under RLS, and COPY cannot upsert);
//  3. in one pipelined round trip: INSERT INTO each table SELECT FROM its
//     staging table ON CONFLICT DO NOTHING, fill the labelled windows, and
//     UPDATE shipper_offsets SET next_offset = the batch's end; COMMIT.
//
// The writer path (shipper_direct.go; a BYPASSRLS login bound to its
// tenant, market batches): BEGIN, the tenant and the offset's lock in one
// round trip; a binary COPY per table straight into it (labels whose
// window is in the batch folded into its row); the other label fills, the
// symbols, the offset and COMMIT in one round trip. A row stored already
// (a replay of the same input) fails the COPY with a unique violation:
// nothing is committed and the journal continues on the staging path.
//
// Rows and offset commit or vanish together, so after any crash, kill
// (ctx cancelled mid-batch) or Postgres outage the stored offset is exactly
// the first record not in the database, and the next Run (this Shipper or
// a fresh one) starts there: no record lost, none twice. A commit whose
// outcome the client never learns (the connection dies during COMMIT) is
// settled the same way: every retry first reloads the stored offset, and
// the natural keys would absorb a duplicate anyway. Every journal record
// yields exactly one row (a record that fails to decode yields a rejects
// row with the reason, the raw bytes and its offset, and the batch around
// it lands), which the tests check as "rows = records".
//
// Failures (Postgres down, the journal not there yet, a corrupt block) are
// logged, counted (Stats: Errors, LastError) and retried from the stored
// offset with backoff doubling from MinBackoff to MaxBackoff; the journal
// writer never waits for the shipper, which catches up when it can.
// Stats also reports the committed offset, the lag in records (read or
// acknowledged but not committed), batches, rows, rows/s, rejects and the
// commit lag: a batch's first record appended to the journal → its commit
// (p50/p99/max; the append time a lower bound from the acknowledged offset
// as observed, shipper_acks.go).
//
// # Pointing it at a server
//
// Any PostgreSQL ≥ 13 (tested with 15). Give the migration role (no
// SUPERUSER, no BYPASSRLS) its database, create the role
// thunderline_system (NOLOGIN, or LOGIN for the export job), migrate, and
// bind a login role per tenant (README "Tenant isolation"), then:
//
//	mig, _ := pgxpool.New(ctx, "postgres://thunderline@db:5432/thunderline")
//	_, err := postgres.Migrate(ctx, mig)
//	pool, _ := pgxpool.New(ctx, "postgres://tenant_acme@db:5432/thunderline")
//	s, err := postgres.NewShipper(pool, postgres.ShipperOptions{Dir: runDir, Tenant: "acme"})
//	go s.Run(ctx)
//
// Tests: go test -race ./persist/postgres/ starts a throwaway cluster with
// testdata/pg-start.sh (installing Debian's postgresql when missing; as
// root the server runs as the postgres user) and removes it at the end.
// THUNDERLINE_TEST_PG_DSN=postgres://... points them at an existing server
// instead (its role needs CREATEDB: every test creates its own database;
// the outage test then starts its own cluster, since it stops the server;
// CREATEROLE and the group thunderline_engine for the tenant-role tests).
// testdata/pg-start.sh alone prints the DSN of a cluster in
// $THUNDERLINE_PG_DIR (default /tmp/thunderline-pg); pg-stop.sh [--purge]
// stops it.
package postgres
