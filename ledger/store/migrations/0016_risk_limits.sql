-- Risk limits (SPEC section 10): a guarantor's leverage and single-SME
-- concentration limits, and each program's compensation-rate breaker.
--
-- They must hold under concurrent posts like the per-SME cap, but posts of
-- guarantors without limits, in programs without a rate limit, pay nothing
-- for them: no lock, no round trip, no row. So ledger_prepare decides, after
-- the footprint's locks and in the same call, which limits apply, by probing
-- w_guarantor_limits and w_programs.rate_limit_role, and only then takes the
-- limits' own locks ("guarantor:G", "breaker:P I"). These second-phase locks
-- are taken after all first-phase ones and in their own hash order; a post
-- holding one never waits for a first-phase lock, so posts never deadlock.
--
-- Whether a limit applies can change only by a post that takes the append
-- lock exclusively (a barrier: institution.net_assets_recorded,
-- institution.limits_set, program.amended). It waits for every running
-- append and holds every new one off until it commits, so the probe's
-- answer stands for the whole of any other append transaction.

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

-- The role a program's compensation-rate limit names (NULL: no limit).
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

DROP FUNCTION ledger_prepare(bigint, text[], boolean[], uuid[], text[], text[], text[], text[],
                             text[], text[], text[], text[], text[], text[]);

CREATE FUNCTION ledger_prepare(
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
    -- Which limits apply: one statement, index probes only, for a post without any.
    IF cardinality(limit_guarantors) + cardinality(renewal_guarantees)
       + cardinality(breaker_programs) + cardinality(discharge_guarantees) > 0 THEN
        SELECT coalesce(array_agg(DISTINCT t.a) FILTER (WHERE t.kind = 'g'), '{}'),
               coalesce(array_agg(t.a) FILTER (WHERE t.kind = 'b'), '{}'),
               coalesce(array_agg(t.b) FILTER (WHERE t.kind = 'b'), '{}'),
               coalesce(array_agg(t.x) FILTER (WHERE t.kind = 'b'), '{}')
          INTO limited, b_prog, b_inst, b_excl
          FROM (SELECT 'g', l.institution_id, NULL::text, true
                  FROM w_guarantor_limits l WHERE l.institution_id = ANY(limit_guarantors)
                UNION ALL
                SELECT 'g', w.guarantor_id, NULL::text, true
                  FROM w_guarantees w
                 WHERE w.guarantee_id = ANY(renewal_guarantees) AND w.guarantor_id IS NOT NULL
                UNION ALL
                SELECT 'b', b.p, b.i, b.x
                  FROM unnest(breaker_programs, breaker_institutions, breaker_exclusive)
                       AS b(p, i, x)
                  JOIN w_programs wp ON wp.program_id = b.p AND wp.rate_limit_role IS NOT NULL
                UNION ALL
                -- The institution a discharge counts for is the guarantee's party in
                -- the limit's role (bank_id or guarantor_id of its state).
                SELECT 'b', w.program_id,
                       convert_from(w.doc, 'UTF8')::jsonb ->> (wp.rate_limit_role || '_id'), true
                  FROM w_guarantees w
                  JOIN w_programs wp
                    ON wp.program_id = w.program_id AND wp.rate_limit_role IS NOT NULL
                 WHERE w.guarantee_id = ANY(discharge_guarantees)) AS t(kind, a, b, x);
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

DROP FUNCTION ledger_append(text, uuid[], text[], bigint[], text[], bytea[], bytea[],
                            timestamptz, text[], bigint[], text[], text[], bytea[], text[],
                            bytea[], text[], bytea[], text[], text[], text[], bigint[],
                            bigint[], text[], bytea[], text[], text[], text[], text[],
                            text[], bigint[]);

CREATE FUNCTION ledger_append(
    notify_channel     text,
    event_ids          uuid[],
    stream_ids         text[],
    stream_versions    bigint[],
    types              text[],
    fingerprints       bytea[],
    bodies             bytea[],
    recorded           timestamptz,
    head_streams       text[],
    head_versions      bigint[],
    institution_ids    text[],
    institution_kinds  text[],
    institution_docs   bytea[],
    program_ids        text[],
    program_docs       bytea[],
    sme_ids            text[],
    sme_docs           bytea[],
    guarantee_ids      text[],
    guarantee_programs text[],
    guarantee_smes     text[],
    guarantee_loans    bigint[],
    guarantee_balances bigint[],
    guarantee_roles    text[],
    guarantee_docs     bytea[],
    claim_ids          text[],
    claim_guarantees   text[],
    volume_programs    text[],
    volume_roles       text[],
    volume_smes        text[],
    volume_amounts     bigint[],
    program_limit_roles  text[],
    guarantee_guarantors text[],
    limits_ids           text[],
    limits_docs          bytea[],
    breaker_programs     text[],
    breaker_institutions text[],
    breaker_years        integer[],
    breaker_docs         bytea[]
) RETURNS TABLE (r_seq bigint, r_event_id uuid)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    newly text[];
BEGIN
    -- Events first: a concurrent post of the same event_id fails here, at once.
    RETURN QUERY
        INSERT INTO events
               (event_id, stream_id, stream_version, type, fingerprint, body, recorded_at)
        SELECT u.*, recorded
          FROM unnest(event_ids, stream_ids, stream_versions, types, fingerprints, bodies) AS u
        RETURNING events.seq, events.event_id;
    IF cardinality(head_streams) > 0 THEN
        INSERT INTO streams (stream_id, version)
        SELECT * FROM unnest(head_streams, head_versions)
        ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version;
    END IF;
    IF cardinality(institution_ids) > 0 THEN
        INSERT INTO w_institutions (institution_id, kind, doc)
        SELECT * FROM unnest(institution_ids, institution_kinds, institution_docs)
        ON CONFLICT (institution_id) DO UPDATE SET kind = EXCLUDED.kind, doc = EXCLUDED.doc;
    END IF;
    IF cardinality(program_ids) > 0 THEN
        INSERT INTO w_programs (program_id, doc, rate_limit_role)
        SELECT * FROM unnest(program_ids, program_docs, program_limit_roles)
        ON CONFLICT (program_id) DO UPDATE
            SET doc = EXCLUDED.doc, rate_limit_role = EXCLUDED.rate_limit_role;
    END IF;
    IF cardinality(sme_ids) > 0 THEN
        INSERT INTO w_smes (sme_id, doc)
        SELECT * FROM unnest(sme_ids, sme_docs)
        ON CONFLICT (sme_id) DO UPDATE SET doc = EXCLUDED.doc;
    END IF;
    -- A guarantee's capped roles come as one comma-separated text each
    -- (arrays of arrays must be rectangular in PostgreSQL). guarantor_id is set
    -- once, when the guarantor has limits (the barrier fills in older guarantees).
    IF cardinality(guarantee_ids) > 0 THEN
        INSERT INTO w_guarantees
               (guarantee_id, program_id, sme_id, loan_amount, balance, volume_roles, doc,
                guarantor_id)
        SELECT g.id, g.program_id, g.sme_id, g.loan, g.balance,
               string_to_array(g.roles, ','), g.doc, g.guarantor_id
          FROM unnest(guarantee_ids, guarantee_programs, guarantee_smes, guarantee_loans,
                      guarantee_balances, guarantee_roles, guarantee_docs, guarantee_guarantors)
               AS g(id, program_id, sme_id, loan, balance, roles, doc, guarantor_id)
        ON CONFLICT (guarantee_id) DO UPDATE SET balance = EXCLUDED.balance, doc = EXCLUDED.doc;
    END IF;
    IF cardinality(claim_ids) > 0 THEN
        INSERT INTO w_claims (claim_id, guarantee_id)
        SELECT * FROM unnest(claim_ids, claim_guarantees);
    END IF;
    IF cardinality(limits_ids) > 0 THEN
        SELECT coalesce(array_agg(x), '{}') INTO newly
          FROM unnest(limits_ids) AS x
         WHERE NOT EXISTS (SELECT 1 FROM w_guarantor_limits l WHERE l.institution_id = x);
        INSERT INTO w_guarantor_limits (institution_id, doc)
        SELECT * FROM unnest(limits_ids, limits_docs)
        ON CONFLICT (institution_id) DO UPDATE SET doc = EXCLUDED.doc;
        -- A guarantor limited for the first time: its guarantees now carry its id
        -- (once per guarantor, under the barrier that posts its first limit).
        IF cardinality(newly) > 0 THEN
            UPDATE w_guarantees w
               SET guarantor_id = convert_from(w.doc, 'UTF8')::jsonb ->> 'guarantor_id'
             WHERE w.guarantor_id IS NULL
               AND convert_from(w.doc, 'UTF8')::jsonb ->> 'guarantor_id' = ANY(newly);
        END IF;
    END IF;
    IF cardinality(breaker_programs) > 0 THEN
        INSERT INTO w_breakers (program_id, institution_id, year, doc)
        SELECT * FROM unnest(breaker_programs, breaker_institutions, breaker_years, breaker_docs)
        ON CONFLICT (program_id, institution_id, year) DO UPDATE SET doc = EXCLUDED.doc;
    END IF;
    -- Last, so a shard row is held only until the commit that follows; in one
    -- order (program, role, shard), so two posts sharing shards never deadlock.
    IF cardinality(volume_programs) > 0 THEN
        INSERT INTO w_program_volume AS w (program_id, role, shard, volume)
        SELECT v.program_id, v.role, ledger_volume_shard(v.sme_id), sum(v.amount)
          FROM unnest(volume_programs, volume_roles, volume_smes, volume_amounts)
               AS v(program_id, role, sme_id, amount)
         GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3
        ON CONFLICT (program_id, role, shard) DO UPDATE SET volume = w.volume + EXCLUDED.volume;
    END IF;
    IF notify_channel IS NOT NULL THEN
        PERFORM pg_notify(notify_channel, '');
    END IF;
END;
$$;
