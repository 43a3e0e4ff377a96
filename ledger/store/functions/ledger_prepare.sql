-- The first of a post's two calls: takes every lock the post needs and reads
-- everything the rules need (earlier events with these ids, stream versions,
-- decision state, the per-SME balances and program volumes, the posters'
-- keys). The rules then decide in the service, and ledger_append writes.
-- It only bundles statements the service could run one by one: it runs with
-- the caller's rights (SECURITY INVOKER), and the service role's grants still
-- decide what it may read. Rows are tagged by r_kind; the columns each kind
-- fills are read in ledger/store/decisions.py.
--
-- Risk limits (SPEC section 10, migration 0016): after the footprint's locks
-- it probes which limits apply to the post (a guarantor's row in
-- w_guarantor_limits, a program's rate_limit_role) and only then takes those
-- limits' own locks, in their own hash order, and reads their sums. A post
-- holding one of these second-phase locks never waits for a first-phase
-- one, so posts never deadlock; a post without limits takes none. Posts that
-- change whether a limit applies (barrier) hold the append lock exclusively.

CREATE OR REPLACE FUNCTION ledger_prepare(
    append_lock          bigint,
    lock_keys            text[],
    lock_exclusive       boolean[],
    event_ids            uuid[],
    stream_ids           text[],
    institution_ids      text[],
    program_ids          text[],
    sme_ids              text[],
    guarantee_ids        text[],
    claim_ids            text[],
    balance_smes         text[],
    balance_programs     text[],
    volume_programs      text[],
    key_ids              text[],
    barrier              boolean,
    limit_guarantors     text[],
    limit_smes           text[],
    limit_institutions   text[],
    renewal_guarantees   text[],
    breaker_programs     text[],
    breaker_institutions text[],
    breaker_exclusive    boolean[],
    discharge_guarantees text[]
) RETURNS TABLE (r_kind text, r_key text, r_key2 text, r_key3 text, r_n1 bigint,
                 r_n2 bigint, r_n3 bigint, r_doc bytea, r_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    limited   text[] := '{}';
    b_prog    text[] := '{}';
    b_inst    text[] := '{}';
    b_excl    boolean[] := '{}';
    any_guarantor boolean := false;
    any_breaker   boolean := false;
BEGIN
    -- Marks this transaction as an appender for the sealer, before any write; a
    -- barrier takes it exclusively (see the top of this file).
    IF barrier THEN
        PERFORM pg_advisory_xact_lock(append_lock);
    ELSE
        PERFORM pg_advisory_xact_lock_shared(append_lock);
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
            SELECT 'version', s.stream_id, NULL::text, NULL::text, s.version, NULL::bigint, NULL::bigint,
                   NULL::bytea, NULL::timestamptz
              FROM streams s WHERE s.stream_id = ANY(stream_ids);
    END IF;
    IF cardinality(institution_ids) > 0 THEN
        RETURN QUERY
            SELECT 'institution', i.institution_id, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, i.doc, NULL::timestamptz
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
            SELECT 'guarantee', g.guarantee_id, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, g.doc, NULL::timestamptz
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
            SELECT 'volume', w.program_id, w.role, NULL::text, sum(w.volume)::bigint, NULL::bigint,
                   NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM w_program_volume w
             WHERE w.program_id = ANY(volume_programs)
             GROUP BY w.program_id, w.role;
    END IF;
    -- Which limits apply. Each probe is one index look-up in a small table, and the
    -- queries that gather the limits' keys run only when a probe finds one: a post
    -- without limits costs one statement of two probes (a single statement that
    -- also gathered the keys cost a post without limits a tenth of its prepare).
    IF cardinality(limit_guarantors) + cardinality(breaker_programs)
       + cardinality(discharge_guarantees) > 0 THEN
        SELECT EXISTS (SELECT 1 FROM w_guarantor_limits l
                        WHERE l.institution_id = ANY(limit_guarantors)),
               EXISTS (SELECT 1 FROM w_programs wp
                        WHERE wp.program_id = ANY(program_ids) AND wp.rate_limit_role IS NOT NULL)
          INTO any_guarantor, any_breaker;
    END IF;
    IF any_guarantor THEN
        SELECT array_agg(l.institution_id) INTO limited
          FROM w_guarantor_limits l WHERE l.institution_id = ANY(limit_guarantors);
    END IF;
    IF cardinality(renewal_guarantees) > 0 THEN
        limited := limited || ARRAY(SELECT w.guarantor_id FROM w_guarantees w
                                     WHERE w.guarantee_id = ANY(renewal_guarantees)
                                       AND w.guarantor_id IS NOT NULL);
    END IF;
    IF any_breaker THEN
        SELECT coalesce(array_agg(t.p), '{}'), coalesce(array_agg(t.i), '{}'),
               coalesce(array_agg(t.x), '{}')
          INTO b_prog, b_inst, b_excl
          FROM (SELECT b.p, b.i, b.x
                  FROM unnest(breaker_programs, breaker_institutions, breaker_exclusive)
                       AS b(p, i, x)
                  JOIN w_programs wp ON wp.program_id = b.p AND wp.rate_limit_role IS NOT NULL
                UNION ALL
                -- The institution a discharge counts for is the guarantee's party in
                -- the limit's role (bank_id or guarantor_id of its state).
                SELECT w.program_id,
                       convert_from(w.doc, 'UTF8')::jsonb ->> (wp.rate_limit_role || '_id'), true
                  FROM w_guarantees w
                  JOIN w_programs wp
                    ON wp.program_id = w.program_id AND wp.rate_limit_role IS NOT NULL
                 WHERE w.guarantee_id = ANY(discharge_guarantees)) AS t(p, i, x);
    END IF;
    IF cardinality(limit_institutions) > 0 THEN
        SELECT array_agg(DISTINCT x) INTO limited FROM unnest(limited || limit_institutions) AS x;
    END IF;
    IF cardinality(limited) + cardinality(b_prog) = 0 THEN
        RETURN;
    END IF;
    -- The limits' own locks, after the footprint's (none when reading without locks).
    IF cardinality(lock_keys) > 0 THEN
        PERFORM count(CASE WHEN x THEN pg_advisory_xact_lock(h)
                           ELSE pg_advisory_xact_lock_shared(h) END)
           FROM (SELECT hashtextextended(k, 0) AS h, bool_or(x) AS x
                   FROM (SELECT 'guarantor:' || g, true FROM unnest(limited) AS g
                         UNION ALL
                         SELECT 'breaker:' || p || ' ' || i, x
                           FROM unnest(b_prog, b_inst, b_excl) AS b(p, i, x)) AS t(k, x)
                  GROUP BY 1 ORDER BY 1) AS ordered;
    END IF;
    IF cardinality(limited) > 0 THEN
        RETURN QUERY
            SELECT 'limits', l.institution_id, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, l.doc, NULL::timestamptz
              FROM w_guarantor_limits l WHERE l.institution_id = ANY(limited);
        -- In force per guarantor in total (r_key2 NULL) and to each SME the post names.
        -- A barrier may be limiting a guarantor for the first time: its guarantees do
        -- not carry its id yet and are found by their state (all appends wait meanwhile).
        RETURN QUERY
            WITH ex AS MATERIALIZED (
                SELECT w.guarantor_id AS gid, w.sme_id, w.balance
                  FROM w_guarantees w WHERE w.guarantor_id = ANY(limited)
                UNION ALL
                SELECT d.gid, d.sme_id, d.balance
                  FROM (SELECT convert_from(w.doc, 'UTF8')::jsonb ->> 'guarantor_id' AS gid,
                               w.sme_id, w.balance
                          FROM w_guarantees w
                         WHERE barrier AND w.guarantor_id IS NULL) AS d
                 WHERE d.gid = ANY(limit_institutions)),
            pairs AS (
                SELECT DISTINCT k.gid, k.sme_id
                  FROM (SELECT * FROM unnest(limit_guarantors, limit_smes)
                        UNION ALL
                        SELECT w.guarantor_id, w.sme_id FROM w_guarantees w
                         WHERE w.guarantee_id = ANY(renewal_guarantees)
                           AND w.guarantor_id IS NOT NULL) AS k(gid, sme_id))
            SELECT 'exposure', ex.gid, NULL::text, NULL::text, sum(ex.balance)::bigint,
                   NULL::bigint, NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM ex GROUP BY ex.gid
            UNION ALL
            SELECT 'exposure', ex.gid, ex.sme_id, NULL::text, sum(ex.balance)::bigint,
                   NULL::bigint, NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM ex JOIN pairs ON pairs.gid = ex.gid AND pairs.sme_id = ex.sme_id
             GROUP BY ex.gid, ex.sme_id;
    END IF;
    IF cardinality(b_prog) > 0 THEN
        RETURN QUERY
            SELECT 'breaker', b.program_id, b.institution_id, NULL::text, b.year::bigint,
                   NULL::bigint, NULL::bigint, b.doc, NULL::timestamptz
              FROM w_breakers b
              JOIN (SELECT DISTINCT * FROM unnest(b_prog, b_inst)) AS k(p, i)
                ON b.program_id = k.p AND b.institution_id = k.i;
    END IF;
END;
$$;

