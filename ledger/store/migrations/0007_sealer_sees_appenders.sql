-- The sealer reads which sessions are appending (pg_locks + pg_stat_activity
-- backend_xid) to seal past unrelated writers. Seeing other sessions'
-- transaction ids needs pg_read_all_stats; where the migrating user may not
-- grant it, the sealer falls back to the snapshot xmin (correct, just slower
-- while unrelated transactions run).
DO $$
BEGIN
    GRANT pg_read_all_stats TO ledger_service;
EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
    RAISE NOTICE 'pg_read_all_stats not granted to ledger_service: sealing waits for all writers';
END;
$$;
