-- Read models (projections): one table of documents per projection, and one
-- checkpoint row per projection.
--
-- A projection's documents are keyed by (generation, key). Readers only see
-- the generation named in its checkpoint row. A rebuild fills generation g+1
-- beside the live one and then, in one transaction, points the checkpoint at
-- it: readers never see an empty or half-built model, and the service role
-- needs no DDL (it cannot rename or drop tables it does not own).
--
-- The runner writes the documents an event batch changed and advances
-- `position` in the same transaction, holding the checkpoint row locked, so
-- every event takes effect exactly once however runners crash or overlap.

CREATE TABLE projection_checkpoints (
    name       text PRIMARY KEY,
    generation integer     NOT NULL DEFAULT 1 CHECK (generation >= 1),
    position   bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO projection_checkpoints (name) VALUES
    ('sme_exposure'), ('guarantees'), ('claims'), ('institutions'), ('programs');

CREATE TABLE proj_sme_exposure (
    generation integer NOT NULL,
    key        text    NOT NULL,
    doc        jsonb   NOT NULL,
    PRIMARY KEY (generation, key)
);
CREATE TABLE proj_guarantees (LIKE proj_sme_exposure INCLUDING ALL);
CREATE TABLE proj_claims (LIKE proj_sme_exposure INCLUDING ALL);
CREATE TABLE proj_institutions (LIKE proj_sme_exposure INCLUDING ALL);
CREATE TABLE proj_programs (LIKE proj_sme_exposure INCLUDING ALL);

GRANT SELECT, INSERT, UPDATE, DELETE ON projection_checkpoints, proj_sme_exposure,
    proj_guarantees, proj_claims, proj_institutions, proj_programs TO ledger_service;
