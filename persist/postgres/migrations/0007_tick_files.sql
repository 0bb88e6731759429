-- 0007_tick_files: raw ticks archived as Parquet files (persist/tickarchive)
-- by the shipper's tick lane instead of one row each in raw_market_ticks
-- (issue 14): one row per file, found by tenant, symbol and time. The
-- file's address (uri, sha256) is content-addressed: a batch written again
-- after a crash gives the same bytes and the same row.
CREATE TABLE tick_files (
	tenant_id    text NOT NULL DEFAULT thunderline_tenant(),
	journal_id   text NOT NULL,
	first_offset bigint NOT NULL,   -- journal offsets of the file's ticks: lowest
	last_offset  bigint NOT NULL,   -- and highest
	symbols      text[] NOT NULL,   -- sorted, distinct
	ts_from      timestamptz NOT NULL,
	ts_to        timestamptz NOT NULL,
	ts_from_ns   bigint NOT NULL,   -- event time of the first and last tick, ns since the epoch
	ts_to_ns     bigint NOT NULL,
	rows         bigint NOT NULL,
	bytes        bigint NOT NULL,
	sha256       text NOT NULL,
	uri          text NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, journal_id, first_offset)
);
CREATE INDEX tick_files_time ON tick_files (tenant_id, ts_from, ts_to);
CREATE INDEX tick_files_symbols ON tick_files USING gin (symbols);
SELECT thunderline_secure('tick_files'::regclass);
GRANT SELECT, INSERT ON tick_files TO thunderline_engine;
