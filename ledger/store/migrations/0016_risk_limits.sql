-- Risk limits (SPEC section 10): a guarantor's leverage and single-SME
-- concentration limits, and each program's compensation-rate breaker. The
-- tables are here; ledger_prepare and ledger_append (ledger/store/functions/)
-- read and write them.
--
-- They must hold under concurrent posts like the per-SME cap, but posts of
-- guarantors without limits, in programs without a rate limit, pay nothing
-- for them: no lock, no statement, no row. ledger_prepare's rows show, in
-- passing, whether a limit applies (an institution with a row here, a
-- program's terms, a guarantee that carries its limited guarantor's id);
-- only then does the service call ledger_prepare_limits for the limits' own
-- locks and sums (see the function files).
--
-- Whether a limit applies can change only by a post that takes the append
-- lock exclusively (a barrier: institution.net_assets_recorded,
-- institution.limits_set, program.amended). It waits for every running
-- append and holds every new one off until it commits, so what a post read
-- stands for the whole of its transaction.

-- A guarantor's latest net assets and limits (GuarantorLimits, JSON).
CREATE TABLE w_guarantor_limits (
    institution_id text PRIMARY KEY,
    doc            bytea NOT NULL
);

-- A limited guarantor's guarantees carry its id, so its in-force balance is
-- a sum over a partial index; other guarantees leave it NULL and the index
-- alone (adding a NULL column rewrites nothing).
ALTER TABLE w_guarantees ADD COLUMN guarantor_id text;
CREATE INDEX w_guarantees_limited ON w_guarantees (guarantor_id, sme_id) INCLUDE (balance)
    WHERE guarantor_id IS NOT NULL;

-- The role a program's compensation-rate limit names (NULL: no limit), for
-- people reading the decision state; the rules read the program's terms.
ALTER TABLE w_programs ADD COLUMN rate_limit_role text;

-- One breaker per (program, institution, calendar year of business dates).
CREATE TABLE w_breakers (
    program_id     text    NOT NULL,
    institution_id text    NOT NULL,
    year           integer NOT NULL,
    doc            bytea   NOT NULL,
    PRIMARY KEY (program_id, institution_id, year)
);

GRANT SELECT, INSERT, UPDATE ON w_guarantor_limits, w_breakers TO ledger_service;
