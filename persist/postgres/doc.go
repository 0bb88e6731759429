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
//	experts            the expert registry (not a tenant table)
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
//	shipper_offsets    (journal_id, next_offset, updated_at) per journal
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
// Every tenant table has tenant_id text NOT NULL, ENABLE and FORCE ROW
// LEVEL SECURITY, and two policies: tenant_isolation (every command: rows
// whose tenant_id = current_setting('thunderline.tenant', true), for
// reading and for writing) and system_read (SELECT of every row, for the
// role thunderline_system only). Partitions get the same policies (a
// partition read directly does not go through its parent's). WithTenant
// sets the tenant for one transaction (set_config(..., true), i.e. SET
// LOCAL); with none set a session sees no rows and can write none.
//
// Roles: the engine (and Migrate) connect as an ordinary role — no
// SUPERUSER, no BYPASSRLS — that owns the tables; FORCE makes the policies
// bind the owner too. thunderline_system reads across tenants (exports)
// and may write export_jobs only (rows of the tenant it sets). Migrate creates thunderline_system if it
// is missing, which needs CREATEROLE; otherwise create it beforehand.
//
// # The shipper, exactly once
//
// A Shipper tails one run's journal directory (journal.NewReader from the
// stored offset; at io.EOF it waits Poll and reads again; with
// ShipperOptions.Acked it reads only acknowledged records) and writes
// batches of up to BatchSize records, at most MaxDelay after the first one
// was read. One batch is one transaction:
//
//  1. set the tenant; SELECT next_offset ... FOR UPDATE and check it is the
//     batch's first offset (else another shipper moved it: start over);
//  2. COPY each table's rows into a temporary staging table (PostgreSQL
//     refuses COPY FROM into a table under RLS, and COPY cannot upsert);
//  3. in one pipelined round trip: INSERT INTO each table SELECT FROM its
//     staging table ON CONFLICT DO NOTHING, fill the labelled windows, and
//     UPDATE shipper_offsets SET next_offset = the batch's end; COMMIT.
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
// acknowledged but not committed), batches, rows, rows/s and rejects.
//
// # Pointing it at a server
//
// Any PostgreSQL ≥ 13 (tested with 15). Give the engine a role without
// SUPERUSER or BYPASSRLS that owns its database, create the role
// thunderline_system (NOLOGIN, or LOGIN for the export job), then:
//
//	pool, _ := pgxpool.New(ctx, "postgres://thunderline@db:5432/thunderline")
//	_, err := postgres.Migrate(ctx, pool)
//	s, err := postgres.NewShipper(pool, postgres.ShipperOptions{Dir: runDir, Tenant: "acme"})
//	go s.Run(ctx)
//
// Tests: go test -race ./persist/postgres/ starts a throwaway cluster with
// testdata/pg-start.sh (installing Debian's postgresql when missing; as
// root the server runs as the postgres user) and removes it at the end.
// THUNDERLINE_TEST_PG_DSN=postgres://... points them at an existing server
// instead (its role needs CREATEDB: every test creates its own database;
// the outage test then starts its own cluster, since it stops the server).
// testdata/pg-start.sh alone prints the DSN of a cluster in
// $THUNDERLINE_PG_DIR (default /tmp/thunderline-pg); pg-stop.sh [--purge]
// stops it.
package postgres
