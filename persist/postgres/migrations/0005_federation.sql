-- 0005_federation: the control-plane resources of federated training
-- (issue 7; seed 000 "Ash resources"): federations, their rounds, client
-- leases, model artifacts and metrics rollups. Every change to them goes
-- through persist/postgres FL, which writes an fl.* outbox event in the same
-- transaction (federation.go lists the transitions and events).
--
-- Child rows reference their federation by (tenant_id, federation_id):
-- foreign-key checks do not apply row-level security, so a plain key on
-- the id alone would let one tenant attach rows to another's federation.

-- The outbox takes events that come from no journal: such a row has an
-- event_id instead of (journal_id, journal_offset). The shipper's rows
-- keep their unique (tenant_id, journal_id, journal_offset) key.
ALTER TABLE outbox ALTER COLUMN journal_id DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN journal_offset DROP NOT NULL;
ALTER TABLE outbox ADD COLUMN event_id uuid UNIQUE;
ALTER TABLE outbox ADD CONSTRAINT outbox_origin_check CHECK (
	(journal_id IS NOT NULL AND journal_offset IS NOT NULL AND event_id IS NULL)
	OR (journal_id IS NULL AND journal_offset IS NULL AND event_id IS NOT NULL));

CREATE TABLE federations (
	id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id    text        NOT NULL,
	name         text        NOT NULL,
	spec_yaml    text        NOT NULL,
	status       text        NOT NULL DEFAULT 'created'
	                         CHECK (status IN ('created', 'started', 'completed', 'failed')),
	created_by   text        NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	started_at   timestamptz,
	completed_at timestamptz,  -- completed or failed
	error        text,         -- why it failed
	UNIQUE (tenant_id, id)
);
CREATE INDEX federations_tenant ON federations (tenant_id, created_at DESC);

CREATE TABLE fl_rounds (
	id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id     text        NOT NULL,
	federation_id uuid        NOT NULL,
	round_num     integer     NOT NULL CHECK (round_num >= 1),
	status        text        NOT NULL DEFAULT 'started'
	                          CHECK (status IN ('started', 'completed', 'failed')),
	metrics_json  jsonb,
	started_at    timestamptz NOT NULL DEFAULT now(),
	completed_at  timestamptz,  -- completed or failed
	error         text,
	UNIQUE (federation_id, round_num),
	UNIQUE (tenant_id, federation_id, id),
	FOREIGN KEY (tenant_id, federation_id) REFERENCES federations (tenant_id, id)
);
CREATE INDEX fl_rounds_federation ON fl_rounds (tenant_id, federation_id);

CREATE TABLE client_leases (
	id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id        text        NOT NULL,
	federation_id    uuid        NOT NULL,
	client_id        text        NOT NULL,
	manifest_uri     text        NOT NULL,
	lease_expires_at timestamptz NOT NULL,
	epochs_max       integer     NOT NULL CHECK (epochs_max >= 0),  -- 0: no limit
	tokens_max       bigint      NOT NULL CHECK (tokens_max >= 0),  -- 0: no limit
	status           text        NOT NULL DEFAULT 'issued'
	                             CHECK (status IN ('issued', 'claimed', 'joined', 'dropped', 'expired', 'completed')),
	issued_at        timestamptz NOT NULL DEFAULT now(),
	claimed_at       timestamptz,
	joined_at        timestamptz,
	ended_at         timestamptz,  -- dropped, expired or completed
	reason           text,         -- why it was dropped
	UNIQUE (federation_id, client_id),
	FOREIGN KEY (tenant_id, federation_id) REFERENCES federations (tenant_id, id)
);
CREATE INDEX client_leases_federation ON client_leases (tenant_id, federation_id);

CREATE TABLE model_artifacts (
	id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id     text        NOT NULL,
	federation_id uuid        NOT NULL,
	round_id      uuid,        -- NULL: the federation's, not one round's
	uri           text        NOT NULL,
	sha256        bytea       NOT NULL CHECK (length(sha256) = 32),
	size_bytes    bigint      NOT NULL CHECK (size_bytes >= 0),
	format        text        NOT NULL,
	created_at    timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (tenant_id, federation_id) REFERENCES federations (tenant_id, id),
	FOREIGN KEY (tenant_id, federation_id, round_id) REFERENCES fl_rounds (tenant_id, federation_id, id)
);
CREATE INDEX model_artifacts_federation ON model_artifacts (tenant_id, federation_id);

CREATE TABLE metrics_rollups (
	id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
	tenant_id       text        NOT NULL,
	federation_id   uuid        NOT NULL,
	round_id        uuid,        -- NULL: over the whole federation
	aggregates_json jsonb       NOT NULL,
	created_at      timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (tenant_id, federation_id) REFERENCES federations (tenant_id, id),
	FOREIGN KEY (tenant_id, federation_id, round_id) REFERENCES fl_rounds (tenant_id, federation_id, id)
);
CREATE INDEX metrics_rollups_federation ON metrics_rollups (tenant_id, federation_id);

-- Row-level security as 0002: tenant_isolation for the engine (the tables'
-- owner, bound by FORCE), system_read and SELECT for thunderline_system.
SELECT thunderline_secure(t::regclass) FROM unnest(ARRAY[
	'federations', 'fl_rounds', 'client_leases', 'model_artifacts', 'metrics_rollups']) AS t;
