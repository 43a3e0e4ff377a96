-- The first of a post's two calls: takes every lock the post needs and reads
-- everything the rules need (earlier events with these ids, stream versions and
-- business times, decision state, the per-SME balances and program volumes, the
-- posters' keys). The rules then decide in the service, and ledger_append writes.
-- It only bundles statements the service could run one by one: it runs with
-- the caller's rights (SECURITY INVOKER), and the service role's grants still
-- decide what it may read. Rows are tagged by r_kind; the columns each kind
-- fills are read in ledger/store/decisions.py.
--
-- Risk limits (docs/limits.md, migration 0016): the rows it reads anyway say
-- whether a limit applies (an institution with limits, a program's terms, a
-- limited guarantor's guarantee); only then does the service call
-- ledger_prepare_limits, in the same transaction, for the limits' own locks
-- and sums. A post without limits pays no statement and no lock for them.

CREATE OR REPLACE FUNCTION ledger_prepare(
    append_lock      bigint,
    lock_keys        text[],
    lock_exclusive   boolean[],
    event_ids        uuid[],
    stream_ids       text[],
    institution_ids  text[],
    program_ids      text[],
    sme_ids          text[],
    guarantee_ids    text[],
    claim_ids        text[],
    balance_smes     text[],
    balance_programs text[],
    volume_programs  text[],
    key_ids          text[],
    barrier          boolean
) RETURNS TABLE (r_kind text, r_key text, r_key2 text, r_key3 text, r_n1 bigint,
                 r_n2 bigint, r_n3 bigint, r_doc bytea, r_at timestamptz)
LANGUAGE plpgsql VOLATILE
-- Its statements keep one generic plan per connection instead of being planned
-- again at every call (PostgreSQL's choice for a call with parameters): their
-- plans do not depend on the arrays passed, and a post then pays no planning.
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- Marks this transaction as an appender for the sealer, before any write. A
    -- barrier (a post that changes whether a risk limit applies) takes it
    -- exclusively: it waits for every append under way and holds new ones off.
    IF barrier THEN
        PERFORM pg_advisory_xact_lock(append_lock);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(append_lock);
    END IF;
    -- An appender whose process stops between its calls (hung, swapped out, cut off)
    -- keeps its locks, and once it has written, holds back every later event's
    -- position on every instance. A service's session names how long such a
    -- transaction may sit idle (ledger.append_idle_timeout, ledger/runtime.py: a
    -- working appender's gaps are milliseconds), and is ended past it, as a sealer
    -- that stops is fenced off (ledger/store/sealer_fence.py). The session's own
    -- bound still holds for its other transactions; an import, one long transaction
    -- that calls this between reading chunks of its file, names none.
    IF coalesce(current_setting('ledger.append_idle_timeout', true), '') <> '' THEN
        PERFORM set_config('idle_in_transaction_session_timeout',
                           current_setting('ledger.append_idle_timeout'), true);
    END IF;
    -- The footprint's locks in one global order (by hash, then exclusive first),
    -- taken one row at a time in that order, so posts never deadlock.
    PERFORM count(CASE WHEN x THEN pg_advisory_xact_lock(h)
                       ELSE pg_advisory_xact_lock_shared(h) END)
       FROM (SELECT hashtextextended(k, 0) AS h, bool_or(x) AS x
               FROM unnest(lock_keys, lock_exclusive) AS t(k, x)
              GROUP BY 1 ORDER BY 1) AS ordered;
    -- The posters' keys, read in this transaction: a key revoked before it began
    -- posts nothing. Compared with the presented secret by the caller.
    IF cardinality(key_ids) > 0 THEN
        RETURN QUERY
            SELECT 'key', k.key_id, k.role, k.institution_id, NULL::bigint, NULL::bigint,
                   NULL::bigint, k.secret_sha256, NULL::timestamptz
              FROM api_keys k WHERE k.key_id = ANY(key_ids) AND k.revoked_at IS NULL;
    END IF;
    -- In a volatile function under READ COMMITTED each query below takes a new
    -- snapshot, so it sees everything committed before the locks were granted.
    IF cardinality(event_ids) > 0 THEN
        RETURN QUERY
            SELECT 'earlier', e.event_id::text, e.stream_id, NULL::text, e.stream_version, e.seq,
                   l.position, e.fingerprint, e.recorded_at
              FROM events e LEFT JOIN event_log l ON l.seq = e.seq
             WHERE e.event_id = ANY(event_ids);
    END IF;
    IF cardinality(stream_ids) > 0 THEN
        RETURN QUERY
            -- With the stream's business time (migration 0015), for the rules to keep
            -- the stream in business order.
            SELECT 'version', s.stream_id, NULL::text, NULL::text, s.version, NULL::bigint, NULL::bigint,
                   NULL::bytea, s.occurred_at
              FROM streams s WHERE s.stream_id = ANY(stream_ids);
    END IF;
    IF cardinality(institution_ids) > 0 THEN
        RETURN QUERY
            -- r_key2: the institution, when it has limits (its own row says so,
            -- migration 0022: no other table is read for the many without).
            SELECT 'institution', i.institution_id,
                   CASE WHEN i.limited THEN i.institution_id END, NULL::text, NULL::bigint,
                   NULL::bigint, NULL::bigint, i.doc, NULL::timestamptz
              FROM w_institutions i WHERE i.institution_id = ANY(institution_ids);
    END IF;
    IF cardinality(program_ids) > 0 THEN
        RETURN QUERY
            SELECT 'program', p.program_id, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, p.doc, NULL::timestamptz
              FROM w_programs p WHERE p.program_id = ANY(program_ids);
    END IF;
    IF cardinality(sme_ids) > 0 THEN
        RETURN QUERY
            SELECT 'sme', s.sme_id, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, s.doc, NULL::timestamptz
              FROM w_smes s WHERE s.sme_id = ANY(sme_ids);
    END IF;
    IF cardinality(guarantee_ids) > 0 THEN
        RETURN QUERY
            -- r_key2: the guarantor, where it has limits.
            SELECT 'guarantee', g.guarantee_id, g.guarantor_id, NULL::text, NULL::bigint,
                   NULL::bigint, NULL::bigint, g.doc, NULL::timestamptz
              FROM w_guarantees g WHERE g.guarantee_id = ANY(guarantee_ids);
    END IF;
    IF cardinality(claim_ids) > 0 THEN
        RETURN QUERY
            SELECT 'claim', c.claim_id, c.guarantee_id, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM w_claims c WHERE c.claim_id = ANY(claim_ids);
    END IF;
    IF cardinality(balance_smes) > 0 THEN
        RETURN QUERY
            SELECT 'balance', g.sme_id, g.program_id, NULL::text, sum(g.balance)::bigint, NULL::bigint,
                   NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM w_guarantees g
              JOIN unnest(balance_smes, balance_programs) AS k(sme_id, program_id)
                ON g.sme_id = k.sme_id AND g.program_id = k.program_id
             GROUP BY g.sme_id, g.program_id;
    END IF;
    IF cardinality(volume_programs) > 0 THEN
        RETURN QUERY
            -- As text in r_key3: a program's volume may pass a bigint (migration 0027).
            SELECT 'volume', w.program_id, w.role, sum(w.volume)::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM w_program_volume w
             WHERE w.program_id = ANY(volume_programs)
             GROUP BY w.program_id, w.role;
    END IF;
END;
$$;
