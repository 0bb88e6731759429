-- 0006_tenancy: the tenant is bound by the login, not by a setting a
-- session can change (issue 15).
--
-- Roles:
--   the migration role   runs Migrate and owns every table, function and
--                        partition; trusted (it could ALTER any table).
--   thunderline_engine   NOLOGIN group: only the grants the shipper and the
--                        federation store need (no ownership, no DDL, no
--                        TRUNCATE, no DELETE). The engine logs in as one
--                        LOGIN role per tenant, a member of this group.
--   tenant_roles         (role_name, tenant_id): the binding of each
--                        tenant login role, owned by the migration role.
--
-- thunderline_tenant() (STABLE, SECURITY DEFINER, fixed search_path) is the
-- tenant of the session: the binding of session_user in tenant_roles; for a
-- session_user with no binding that is the migration role (or a member of
-- it) or thunderline_system, the setting thunderline.tenant (WithTenant), as
-- before: those roles are trusted anyway (the first owns the tables, the
-- second reads every tenant); any other role gets NULL and sees no row.
-- Every table carrying a tenant's data (shipper_offsets and experts now
-- included, partitions included) has FORCE ROW LEVEL SECURITY and the
-- policy tenant_isolation: tenant_id = (SELECT thunderline_tenant()).

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thunderline_engine') THEN
		CREATE ROLE thunderline_engine NOLOGIN;  -- needs CREATEROLE; pg-start.sh creates it beforehand
	END IF;
END $$;

CREATE TABLE tenant_roles (
	role_name text PRIMARY KEY,
	tenant_id text NOT NULL CHECK (tenant_id <> '')
);
REVOKE ALL ON tenant_roles FROM PUBLIC;

-- The functions name this schema explicitly and run with search_path
-- pg_catalog, <schema>, pg_temp: a caller's search_path (or a temporary
-- table named tenant_roles) cannot change what they read.
DO $$
DECLARE
	s text := quote_ident(current_schema());
BEGIN
	EXECUTE format($f$
		CREATE FUNCTION thunderline_bound_tenant() RETURNS text
		LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, %1$s, pg_temp AS
		'SELECT tenant_id FROM %1$s.tenant_roles WHERE role_name = session_user'
	$f$, s);
	EXECUTE format($f$
		CREATE FUNCTION thunderline_tenant() RETURNS text
		LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, %1$s, pg_temp AS $b$
		SELECT coalesce(
			(SELECT tenant_id FROM %1$s.tenant_roles WHERE role_name = session_user),
			CASE WHEN pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = '%1$s.tenant_roles'::regclass), 'USAGE')
				OR pg_has_role(session_user, 'thunderline_system', 'USAGE')
			THEN nullif(current_setting('thunderline.tenant', true), '') END)
		$b$
	$f$, s);
END $$;

-- Until the new policies are in place the owner reads every row (NO FORCE):
-- the backfill below looks across tenants.
DO $$
DECLARE
	t regclass;
BEGIN
	FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'tenant_roles' LOOP
		EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', t);
	END LOOP;
END $$;

-- shipper_offsets: a journal's offset belongs to the tenant of its rows
-- (every shipped record is a row carrying the journal id); an offset with
-- no row yet goes to 'default', the profile's default tenant.
ALTER TABLE shipper_offsets ADD COLUMN tenant_id text;
UPDATE shipper_offsets o SET tenant_id = coalesce((
	SELECT x.tenant_id FROM (
		SELECT tenant_id FROM outbox WHERE journal_id = o.journal_id
		UNION ALL SELECT tenant_id FROM journal_symbols WHERE journal_id = o.journal_id
		UNION ALL SELECT tenant_id FROM rejects WHERE journal_id = o.journal_id
		UNION ALL SELECT tenant_id FROM feature_windows WHERE journal_id = o.journal_id
		UNION ALL SELECT tenant_id FROM decision_traces WHERE journal_id = o.journal_id
		UNION ALL SELECT tenant_id FROM raw_market_ticks WHERE journal_id = o.journal_id
		UNION ALL SELECT tenant_id FROM raw_edgar_docs WHERE journal_id = o.journal_id
		UNION ALL SELECT tenant_id FROM lineage_edges WHERE journal_id = o.journal_id
		UNION ALL SELECT tenant_id FROM window_labels WHERE journal_id = o.journal_id) x
	LIMIT 1), 'default');
ALTER TABLE shipper_offsets ALTER COLUMN tenant_id SET NOT NULL,
	ALTER COLUMN tenant_id SET DEFAULT thunderline_tenant(),
	DROP CONSTRAINT shipper_offsets_pkey,
	ADD PRIMARY KEY (tenant_id, journal_id);

-- experts: a candidate belongs to the tenant of its federation
-- (metrics.federation_id, RegisterCandidate); any other row to 'default'.
ALTER TABLE experts ADD COLUMN tenant_id text;
UPDATE experts e SET tenant_id = coalesce((
	SELECT f.tenant_id FROM federations f WHERE f.id::text = e.metrics->>'federation_id'), 'default');
ALTER TABLE experts ALTER COLUMN tenant_id SET NOT NULL,
	ALTER COLUMN tenant_id SET DEFAULT thunderline_tenant(),
	DROP CONSTRAINT experts_name_version_key,
	ADD CONSTRAINT experts_tenant_name_version_key UNIQUE (tenant_id, name, version),
	DROP CONSTRAINT experts_pkey,
	ADD PRIMARY KEY (tenant_id, id);

-- thunderline_secure as 0002, with the session's bound tenant. The
-- sub-select makes it one call per statement, not one per row.
CREATE OR REPLACE FUNCTION thunderline_secure(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
	EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
	EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', t);
	EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = (SELECT thunderline_tenant())) WITH CHECK (tenant_id = (SELECT thunderline_tenant()))', t);
	EXECUTE format('DROP POLICY IF EXISTS system_read ON %s', t);
	EXECUTE format('CREATE POLICY system_read ON %s FOR SELECT TO thunderline_system USING (true)', t);
	EXECUTE format('GRANT SELECT ON %s TO thunderline_system', t);
END $$;

SELECT thunderline_secure(c.oid::regclass) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
	WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relname <> 'tenant_roles';

-- Partitions without owner rights: the engine calls
-- thunderline_ensure_partitions (SECURITY DEFINER: the partitions belong to
-- the migration role, secured like their parent), at most 36 months ahead.
-- Its search_path starts with this schema (where the partitions go; only
-- the migration role may create in it) and ends with pg_temp. Dropping
-- partitions (retention) removes every tenant's rows of a month: only the
-- migration role may.
DO $$
BEGIN
	EXECUTE format($f$
		CREATE FUNCTION thunderline_ensure_partitions(months_ahead integer) RETURNS integer
		LANGUAGE plpgsql SECURITY DEFINER SET search_path = %1$s, pg_catalog, pg_temp AS $b$
		BEGIN
			IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 36 THEN
				RAISE EXCEPTION 'thunderline_ensure_partitions: months_ahead %% outside [0, 36]', months_ahead;
			END IF;
			RETURN %1$s.ensure_partitions(months_ahead);
		END $b$
	$f$, quote_ident(current_schema()));
END $$;
REVOKE EXECUTE ON FUNCTION thunderline_secure(regclass), ensure_partitions(integer), drop_partitions_before(regclass, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION thunderline_ensure_partitions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION thunderline_ensure_partitions(integer) TO thunderline_engine;

-- The engine's grants: what the shipper (shipper_tables.go, shipper.go)
-- and the federation store (fl_*.go, experts.go) issue, nothing more.
GRANT SELECT, INSERT ON raw_market_ticks, raw_edgar_docs, window_labels, decision_traces, lineage_edges,
	rejects, outbox, journal_symbols, model_artifacts, metrics_rollups, experts TO thunderline_engine;
GRANT SELECT, INSERT, UPDATE ON feature_windows, shipper_offsets, federations, fl_rounds, client_leases TO thunderline_engine;
GRANT SELECT ON schema_migrations TO thunderline_engine;  -- Migrate checks the schema is current
DO $$ BEGIN EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO thunderline_engine', current_schema()); END $$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;  -- PostgreSQL 15's default; older servers granted it
