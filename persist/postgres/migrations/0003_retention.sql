-- 0003_retention: seed 004 §8 retention. Raw ticks may be tiered to cold
-- storage after some days, features and decisions kept longer: both are
-- monthly partitions, so retention drops whole months.
--
-- drop_partitions_before drops the monthly partitions (named
-- <parent>_yYYYYmMM by ensure_partitions) of parent whose whole month ends
-- at or before cutoff, and returns how many it dropped. Export a month
-- (thunderline_system) before dropping it; rows in the DEFAULT partition
-- are never dropped here.
CREATE FUNCTION drop_partitions_before(parent regclass, cutoff timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	part regclass;
	name text;
	hi   timestamptz;
	n    integer := 0;
BEGIN
	FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = parent LOOP
		SELECT relname INTO name FROM pg_class WHERE oid = part;
		CONTINUE WHEN name !~ '_y[0-9]{4}m[0-9]{2}$';
		hi := (make_date(substring(name FROM '_y([0-9]{4})m[0-9]{2}$')::int, substring(name FROM 'm([0-9]{2})$')::int, 1)::timestamp
			AT TIME ZONE 'UTC') + interval '1 month';
		IF hi <= cutoff THEN
			EXECUTE format('DROP TABLE %s', part);
			n := n + 1;
		END IF;
	END LOOP;
	RETURN n;
END $$;
