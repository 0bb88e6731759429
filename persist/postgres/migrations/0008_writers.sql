-- 0008_writers: the group of the shipper's writer logins (issue 14).
--
-- A writer login (LOGIN BYPASSRLS, made by a superuser: README "A writer
-- login") lets the shipper COPY straight into the tables, which PostgreSQL
-- refuses to a role row-level security binds. BYPASSRLS also lifts the
-- policies from its reads, so the writer is not a member of
-- thunderline_engine (SELECT on every tenant table) but of this group,
-- which may insert what the shipper ships and read only what it must:
-- its offsets and symbols (every statement names the tenant), the columns
-- the label and EDGAR fills and a replay's trace check look at (ids,
-- tenants, window starts, status, kinds: no features, no decisions, no
-- ticks, no payloads), and schema_migrations.

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thunderline_writers') THEN
		CREATE ROLE thunderline_writers NOLOGIN;  -- needs CREATEROLE; pg-start.sh creates it beforehand
	END IF;
END $$;

GRANT INSERT ON raw_market_ticks, raw_edgar_docs, feature_windows, window_labels, decision_traces, lineage_edges,
	rejects, outbox, journal_symbols, tick_files TO thunderline_writers;
GRANT SELECT, INSERT, UPDATE ON shipper_offsets TO thunderline_writers;
GRANT SELECT ON journal_symbols, schema_migrations TO thunderline_writers;
GRANT SELECT (tenant_id, id, window_start, status, kind),
	UPDATE (labels, status, features, provenance, hash, journal_id, journal_offset) ON feature_windows TO thunderline_writers;
GRANT SELECT (tenant_id, id) ON decision_traces TO thunderline_writers;
GRANT SELECT (tenant_id, journal_id, first_offset, sha256) ON tick_files TO thunderline_writers;
GRANT EXECUTE ON FUNCTION thunderline_ensure_partitions(integer) TO thunderline_writers;
DO $$ BEGIN EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO thunderline_writers', current_schema()); END $$;
