-- The service connects as `ledger_service`: it may read everything and
-- append events, but it cannot change or remove history. Migrations run as
-- the owner of the schema; the role is cluster-wide, so creating it must
-- tolerate another database of the same cluster having done it first.

DO $$
BEGIN
    CREATE ROLE ledger_service NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END;
$$;

DO $$
BEGIN
    EXECUTE format('GRANT ledger_service TO %I', current_user);
EXCEPTION WHEN duplicate_object OR unique_violation OR invalid_grant_operation THEN
    NULL;
END;
$$;

DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ledger_service', current_schema());
END;
$$;

ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ledger_service;
ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO ledger_service;

GRANT SELECT, INSERT ON events, event_log TO ledger_service;
GRANT SELECT, INSERT, UPDATE ON streams TO ledger_service;
GRANT SELECT, INSERT, UPDATE ON w_institutions, w_programs, w_smes, w_guarantees, w_claims
    TO ledger_service;
