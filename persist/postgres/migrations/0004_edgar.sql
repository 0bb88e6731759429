-- EDGAR documents as the engine journals them (issue 6): where each came
-- from and what it was, beside the seed's columns. A bare XBRL instance or
-- HTML document carries no filing time: it is NULL rather than guessed.
ALTER TABLE raw_edgar_docs ALTER COLUMN filing_time DROP NOT NULL;
ALTER TABLE raw_edgar_docs
	ADD COLUMN name           text   NOT NULL DEFAULT '',
	ADD COLUMN source_kind    text   NOT NULL DEFAULT '',
	ADD COLUMN accession      text   NOT NULL DEFAULT '',
	ADD COLUMN company        text   NOT NULL DEFAULT '',
	ADD COLUMN raw_sha256     bytea,
	ADD COLUMN raw_bytes      bigint NOT NULL DEFAULT 0,
	ADD COLUMN issues         jsonb  NOT NULL DEFAULT '[]',
	ADD COLUMN journal_id     text,
	ADD COLUMN journal_offset bigint;
CREATE INDEX raw_edgar_docs_accession ON raw_edgar_docs (tenant_id, accession);
-- Documents the engine could not read are rejects from the engine's EDGAR path.
ALTER TABLE rejects DROP CONSTRAINT rejects_source_check;
ALTER TABLE rejects ADD CONSTRAINT rejects_source_check CHECK (source IN ('engine', 'shipper', 'edgar'));
