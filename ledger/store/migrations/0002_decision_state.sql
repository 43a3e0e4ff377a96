-- Decision state: what the rules need to accept or refuse the next event,
-- kept in the same transaction as the append (unlike the read models, which
-- follow the log asynchronously). Every row can be rebuilt by folding the log.

CREATE TABLE w_institutions (
    institution_id text PRIMARY KEY,
    kind           text NOT NULL,
    doc            bytea NOT NULL
);

CREATE TABLE w_programs (
    program_id text PRIMARY KEY,
    doc        bytea NOT NULL
);

CREATE TABLE w_smes (
    sme_id text PRIMARY KEY,
    doc    bytea NOT NULL
);

-- One row per guarantee. `balance` is the in-force balance (0 once released
-- or closed) so the per-SME cap is a sum over an SME's rows, and `volume_roles`
-- lists the capped roles that have a share, so a program's compensation
-- volume is a sum too; issuances therefore never update a shared row.
CREATE TABLE w_guarantees (
    guarantee_id text PRIMARY KEY,
    program_id   text   NOT NULL,
    sme_id       text   NOT NULL,
    loan_amount  bigint NOT NULL,
    balance      bigint NOT NULL,
    volume_roles text[] NOT NULL,
    doc          bytea  NOT NULL
);

CREATE INDEX w_guarantees_sme ON w_guarantees (sme_id, program_id);
CREATE INDEX w_guarantees_program ON w_guarantees (program_id);

CREATE TABLE w_claims (
    claim_id     text PRIMARY KEY,
    guarantee_id text NOT NULL
);
