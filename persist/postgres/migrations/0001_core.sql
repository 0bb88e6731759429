-- 0001_core: the tables of seed 004 §8, plus what the shipper needs.
-- Every tenant table carries tenant_id text NOT NULL; row-level security is
-- in 0002_rls.sql. Rows shipped from a journal carry (journal_id,
-- journal_offset): where they came from.

CREATE TABLE raw_market_ticks (
	tenant_id      text        NOT NULL,
	journal_id     text        NOT NULL,
	journal_offset bigint      NOT NULL,
	symbol         text        NOT NULL,
	symbol_id      integer     NOT NULL,
	ts             timestamptz NOT NULL,  -- event time (µs precision; ts_ns exact)
	ts_ns          bigint      NOT NULL,
	in_seq         bigint      NOT NULL,
	payload        jsonb       NOT NULL,  -- the tick's fields (prices in 1e-9 units)
	inserted_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, journal_id, journal_offset, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE raw_market_ticks_default PARTITION OF raw_market_ticks DEFAULT;
CREATE INDEX raw_market_ticks_symbol_ts ON raw_market_ticks (tenant_id, symbol, ts DESC);

CREATE TABLE raw_edgar_docs (
	id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id   text        NOT NULL,
	cik         text        NOT NULL,
	form        text        NOT NULL,
	filing_time timestamptz NOT NULL,
	period_end  date,
	sections    jsonb       NOT NULL DEFAULT '{}',
	xbrl        jsonb       NOT NULL DEFAULT '[]',
	hash        bytea       NOT NULL,
	inserted_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (tenant_id, hash)
);
CREATE INDEX raw_edgar_docs_cik ON raw_edgar_docs (tenant_id, cik, filing_time DESC);

CREATE TABLE feature_windows (
	id                     uuid        NOT NULL,
	tenant_id              text        NOT NULL,
	kind                   text        NOT NULL CHECK (kind IN ('market', 'edgar')),
	key                    text        NOT NULL,
	window_start           timestamptz NOT NULL,
	window_end             timestamptz NOT NULL,
	start_ns               bigint      NOT NULL,
	end_ns                 bigint      NOT NULL,
	status                 text        NOT NULL CHECK (status IN ('open', 'filled', 'superseded')),
	features               jsonb       NOT NULL,
	label_spec             jsonb       NOT NULL,
	labels                 jsonb,
	feature_schema_version integer     NOT NULL,
	provenance             jsonb       NOT NULL,
	hash                   bytea       NOT NULL,  -- sha256 of the canonical encoding
	journal_id             text        NOT NULL,
	journal_offset         bigint      NOT NULL,
	inserted_at            timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id, window_start)  -- the id is the natural key; window_start is the partition key
) PARTITION BY RANGE (window_start);
CREATE TABLE feature_windows_default PARTITION OF feature_windows DEFAULT;
CREATE INDEX feature_windows_key ON feature_windows (tenant_id, kind, key, window_start DESC);
CREATE INDEX feature_windows_schema ON feature_windows (tenant_id, feature_schema_version, inserted_at);

-- Label fills as journaled; the same transaction copies them into
-- feature_windows.labels (status 'filled').
CREATE TABLE window_labels (
	tenant_id      text        NOT NULL,
	window_id      uuid        NOT NULL,
	key            text        NOT NULL,
	window_end     timestamptz NOT NULL,
	label_spec     jsonb       NOT NULL,
	valid          boolean     NOT NULL,
	mid_end        double precision NOT NULL,
	mid_target     double precision NOT NULL,
	value          double precision NOT NULL,
	hash           bytea       NOT NULL,
	journal_id     text        NOT NULL,
	journal_offset bigint      NOT NULL,
	inserted_at    timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, window_id, hash)
);

CREATE TABLE experts (
	id                 uuid        PRIMARY KEY,
	name               text        NOT NULL,
	version            text        NOT NULL,
	status             text        NOT NULL,
	latency_budget_ms  integer     NOT NULL,
	metrics            jsonb       NOT NULL DEFAULT '{}',
	model_artifact_ref text,
	inserted_at        timestamptz NOT NULL DEFAULT now(),
	UNIQUE (name, version)
);

CREATE TABLE decision_traces (
	id                 uuid        NOT NULL,
	tenant_id          text        NOT NULL,
	feature_window_id  uuid        NOT NULL,
	window_hash        bytea       NOT NULL,
	key                text        NOT NULL,
	window_end         timestamptz NOT NULL,
	router_version     bigint      NOT NULL,
	gate_scores        jsonb       NOT NULL,
	selected_experts   jsonb       NOT NULL,
	actions            jsonb       NOT NULL,
	blended_action     jsonb       NOT NULL,
	pnl_snapshot       jsonb,
	risk_flags         jsonb       NOT NULL,
	behavior_embedding bytea       NOT NULL,
	hash               bytea       NOT NULL,
	latency_ns         bigint      NOT NULL,
	journal_id         text        NOT NULL,
	journal_offset     bigint      NOT NULL,
	inserted_at        timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id)
);
CREATE INDEX decision_traces_window ON decision_traces (feature_window_id);
CREATE INDEX decision_traces_inserted ON decision_traces (tenant_id, inserted_at DESC);

CREATE TABLE lineage_edges (
	id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id      text        NOT NULL,
	from_id        uuid        NOT NULL,
	to_id          uuid        NOT NULL,
	edge_type      text        NOT NULL,
	at             timestamptz NOT NULL,
	journal_id     text        NOT NULL,
	journal_offset bigint      NOT NULL,
	inserted_at    timestamptz NOT NULL DEFAULT now(),
	UNIQUE (tenant_id, journal_id, journal_offset)
);
CREATE INDEX lineage_edges_from ON lineage_edges (from_id);
CREATE INDEX lineage_edges_to ON lineage_edges (to_id);

CREATE TABLE export_jobs (
	id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id    text        NOT NULL,
	slice_spec   jsonb       NOT NULL,
	status       text        NOT NULL DEFAULT 'pending',
	artifact_uri text,
	created_at   timestamptz NOT NULL DEFAULT now(),
	completed_at timestamptz
);
CREATE INDEX export_jobs_tenant ON export_jobs (tenant_id, created_at DESC);

-- Engine rejects (source 'engine': a RecReject record) and records the
-- shipper could not decode (source 'shipper': reason is the error, raw the
-- payload).
CREATE TABLE rejects (
	id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id      text        NOT NULL,
	journal_id     text        NOT NULL,
	journal_offset bigint      NOT NULL,
	source         text        NOT NULL CHECK (source IN ('engine', 'shipper')),
	kind           integer     NOT NULL,  -- journal record kind
	reason         text        NOT NULL,
	detail         jsonb,
	raw            bytea,
	inserted_at    timestamptz NOT NULL DEFAULT now(),
	UNIQUE (tenant_id, journal_id, journal_offset)
);

-- Events for consumers outside the database (transactional outbox): run
-- metadata, run end, router configs and controls as journaled.
CREATE TABLE outbox (
	id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id      text        NOT NULL,
	topic          text        NOT NULL,
	journal_id     text        NOT NULL,
	journal_offset bigint      NOT NULL,
	payload        bytea       NOT NULL,
	created_at     timestamptz NOT NULL DEFAULT now(),
	published_at   timestamptz,
	UNIQUE (tenant_id, journal_id, journal_offset)
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Symbol records of a journal, so a shipper resuming mid-journal can name
-- the symbols of ticks without re-reading from offset 0.
CREATE TABLE journal_symbols (
	tenant_id  text    NOT NULL,
	journal_id text    NOT NULL,
	symbol_id  integer NOT NULL,
	name       text    NOT NULL,
	PRIMARY KEY (tenant_id, journal_id, symbol_id)
);

-- The shipper's position per journal: written in the same transaction as
-- the rows it covers. Not a tenant table (the shipper is the engine's).
CREATE TABLE shipper_offsets (
	journal_id  text        PRIMARY KEY,
	next_offset bigint      NOT NULL CHECK (next_offset >= 0),
	updated_at  timestamptz NOT NULL DEFAULT now()
);
