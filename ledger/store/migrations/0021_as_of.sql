-- The as-of read model (projections/as_of.py): what the business-date form of
-- GET /v1/audit/state reads instead of folding the log on every request.
--
-- Per event, rows keyed by (entity, business_date, position): signed changes
-- to the additive figures of institution positions and program totals, the
-- amounts that feed an institution's compensation-rate breaker, and index
-- rows naming the few events of a guarantee, claim, SME, institution or
-- program that its body is folded from. A state as of business date D as
-- known at position P reads rows with business_date <= D AND position <= P.
-- One row per event with entity '*' gives the position a body reports and,
-- by recorded_at, the position a known_at moment stands for.
INSERT INTO projection_checkpoints (name) VALUES ('as_of') ON CONFLICT DO NOTHING;

CREATE TABLE proj_as_of (LIKE proj_sme_exposure INCLUDING ALL);

CREATE TABLE proj_as_of_rows (
    generation    integer     NOT NULL,
    entity        text        NOT NULL,
    program_id    text        NOT NULL,
    ref           text        NOT NULL,
    business_date date        NOT NULL,
    position      bigint      NOT NULL,
    recorded_at   timestamptz NOT NULL,
    kind          text        NOT NULL,
    roles         integer     NOT NULL,
    figures       bigint[]    NOT NULL
);

CREATE INDEX proj_as_of_rows_by_date ON proj_as_of_rows
    (generation, entity, business_date, position);

-- The '*' rows alone, by business date (the position a body reports) and by
-- recording time (the position a known_at moment stands for).
CREATE INDEX proj_as_of_rows_days ON proj_as_of_rows (generation, business_date, position)
    WHERE entity = '*';
CREATE INDEX proj_as_of_rows_known ON proj_as_of_rows (generation, recorded_at, position)
    WHERE entity = '*';

GRANT SELECT, INSERT, UPDATE, DELETE ON proj_as_of, proj_as_of_rows TO ledger_service;
