-- 0002_rls: row-level security on every tenant table, and monthly
-- partitions.
--
-- A session sees and writes only the rows of the tenant in the setting
-- thunderline.tenant (set per transaction: WithTenant), unless it is the
-- role thunderline_system, which may read every tenant (exports). FORCE
-- makes the policies bind the tables' owner too; only superusers and
-- BYPASSRLS roles escape them, and the engine must connect as neither.

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'thunderline_system') THEN
		CREATE ROLE thunderline_system NOLOGIN;  -- needs CREATEROLE; pg-start.sh creates it beforehand
	END IF;
END $$;

-- thunderline_secure applies the tenant policies to one table (a tenant
-- table or one of its partitions: a partition read directly does not go
-- through its parent's policies).
CREATE FUNCTION thunderline_secure(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
	EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
	EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = current_setting(''thunderline.tenant'', true)) WITH CHECK (tenant_id = current_setting(''thunderline.tenant'', true))', t);
	EXECUTE format('CREATE POLICY system_read ON %s FOR SELECT TO thunderline_system USING (true)', t);
	EXECUTE format('GRANT SELECT ON %s TO thunderline_system', t);
END $$;

SELECT thunderline_secure(t::regclass) FROM unnest(ARRAY[
	'raw_market_ticks', 'raw_market_ticks_default', 'raw_edgar_docs',
	'feature_windows', 'feature_windows_default', 'window_labels',
	'decision_traces', 'lineage_edges', 'export_jobs', 'rejects', 'outbox',
	'journal_symbols']) AS t;
GRANT SELECT ON experts TO thunderline_system;
-- Exports are tracked in export_jobs by the system role.
GRANT INSERT, UPDATE ON export_jobs TO thunderline_system;

-- ensure_partitions creates the monthly partitions of feature_windows
-- (window_start) and raw_market_ticks (ts) from the current month to
-- months_ahead months ahead, secured like their parent, and returns how
-- many it created. Run it from a timer (the shipper does at start); rows
-- outside every monthly partition land in the DEFAULT partition. A month
-- whose rows already sit in the default partition cannot get its own
-- partition (PostgreSQL refuses); that month is skipped with a notice.
CREATE FUNCTION ensure_partitions(months_ahead integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	parent text;
	col    text;
	m      integer;
	lo     timestamptz;
	hi     timestamptz;
	part   text;
	n      integer := 0;
BEGIN
	FOR parent, col IN VALUES ('feature_windows', 'window_start'), ('raw_market_ticks', 'ts') LOOP
		FOR m IN 0..months_ahead LOOP
			lo := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + make_interval(months => m);
			hi := lo + interval '1 month';
			part := format('%s_y%sm%s', parent, to_char(lo AT TIME ZONE 'UTC', 'YYYY'), to_char(lo AT TIME ZONE 'UTC', 'MM'));
			CONTINUE WHEN to_regclass(part) IS NOT NULL;
			BEGIN
				EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, parent, lo, hi);
				PERFORM thunderline_secure(part::regclass);
				n := n + 1;
			EXCEPTION WHEN check_violation THEN
				RAISE NOTICE 'ensure_partitions: % has rows of % in its default partition; skipped', parent, part;
			END;
		END LOOP;
	END LOOP;
	RETURN n;
END $$;

SELECT ensure_partitions(3);
