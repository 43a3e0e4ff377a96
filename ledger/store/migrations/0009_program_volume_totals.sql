-- A program's compensation volume per role (SPEC section 4: the loans of every
-- guarantee issued in it where the role has a share) was a sum over all of the
-- program's guarantees, taken by each compensation.paid while it held the
-- program's lock: half a second at a million guarantees, with every issuance
-- in the program waiting. Issuances now add to running totals instead, spread
-- over 256 shards by SME: an issuance already holds its SME's lock, so two
-- issuances only wait for each other when their SMEs share a shard, and then
-- only until the first commits. A compensation sums at most 256 rows per role.

CREATE FUNCTION ledger_volume_shard(sme_id text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (hashtextextended(sme_id, 0) & 255)::integer;

CREATE TABLE w_program_volume (
    program_id text    NOT NULL,
    role       text    NOT NULL,
    shard      integer NOT NULL,
    volume     bigint  NOT NULL,
    PRIMARY KEY (program_id, role, shard)
);

GRANT SELECT, INSERT, UPDATE ON w_program_volume TO ledger_service;

INSERT INTO w_program_volume (program_id, role, shard, volume)
SELECT g.program_id, v.role, ledger_volume_shard(g.sme_id), sum(g.loan_amount)
  FROM w_guarantees g, unnest(g.volume_roles) AS v(role)
 GROUP BY 1, 2, 3;

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
    volume_programs  text[]
) RETURNS TABLE (r_kind text, r_key text, r_key2 text, r_n1 bigint, r_n2 bigint,
                 r_n3 bigint, r_doc bytea, r_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Marks this transaction as an appender for the sealer, before any write.
    PERFORM pg_advisory_xact_lock_shared(append_lock);
    -- The footprint's locks in one global order (by hash, then exclusive first),
    -- taken one row at a time in that order, so posts never deadlock.
    PERFORM count(CASE WHEN x THEN pg_advisory_xact_lock(h)
                       ELSE pg_advisory_xact_lock_shared(h) END)
       FROM (SELECT hashtextextended(k, 0) AS h, bool_or(x) AS x
               FROM unnest(lock_keys, lock_exclusive) AS t(k, x)
              GROUP BY 1 ORDER BY 1) AS ordered;
    -- In a volatile function under READ COMMITTED each query below takes a new
    -- snapshot, so it sees everything committed before the locks were granted.
    IF cardinality(event_ids) > 0 THEN
        RETURN QUERY
            SELECT 'earlier', e.event_id::text, e.stream_id, e.stream_version, e.seq,
                   l.position, e.fingerprint, e.recorded_at
              FROM events e LEFT JOIN event_log l ON l.seq = e.seq
             WHERE e.event_id = ANY(event_ids);
    END IF;
    IF cardinality(stream_ids) > 0 THEN
        RETURN QUERY
            SELECT 'version', s.stream_id, NULL::text, s.version, NULL::bigint, NULL::bigint,
                   NULL::bytea, NULL::timestamptz
              FROM streams s WHERE s.stream_id = ANY(stream_ids);
    END IF;
    IF cardinality(institution_ids) > 0 THEN
        RETURN QUERY
            SELECT 'institution', i.institution_id, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, i.doc, NULL::timestamptz
              FROM w_institutions i WHERE i.institution_id = ANY(institution_ids);
    END IF;
    IF cardinality(program_ids) > 0 THEN
        RETURN QUERY
            SELECT 'program', p.program_id, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, p.doc, NULL::timestamptz
              FROM w_programs p WHERE p.program_id = ANY(program_ids);
    END IF;
    IF cardinality(sme_ids) > 0 THEN
        RETURN QUERY
            SELECT 'sme', s.sme_id, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, s.doc, NULL::timestamptz
              FROM w_smes s WHERE s.sme_id = ANY(sme_ids);
    END IF;
    IF cardinality(guarantee_ids) > 0 THEN
        RETURN QUERY
            SELECT 'guarantee', g.guarantee_id, NULL::text, NULL::bigint, NULL::bigint,
                   NULL::bigint, g.doc, NULL::timestamptz
              FROM w_guarantees g WHERE g.guarantee_id = ANY(guarantee_ids);
    END IF;
    IF cardinality(claim_ids) > 0 THEN
        RETURN QUERY
            SELECT 'claim', c.claim_id, c.guarantee_id, NULL::bigint, NULL::bigint,
                   NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM w_claims c WHERE c.claim_id = ANY(claim_ids);
    END IF;
    IF cardinality(balance_smes) > 0 THEN
        RETURN QUERY
            SELECT 'balance', g.sme_id, g.program_id, sum(g.balance)::bigint, NULL::bigint,
                   NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM w_guarantees g
              JOIN unnest(balance_smes, balance_programs) AS k(sme_id, program_id)
                ON g.sme_id = k.sme_id AND g.program_id = k.program_id
             GROUP BY g.sme_id, g.program_id;
    END IF;
    IF cardinality(volume_programs) > 0 THEN
        RETURN QUERY
            SELECT 'volume', w.program_id, w.role, sum(w.volume)::bigint, NULL::bigint,
                   NULL::bigint, NULL::bytea, NULL::timestamptz
              FROM w_program_volume w
             WHERE w.program_id = ANY(volume_programs)
             GROUP BY w.program_id, w.role;
    END IF;
END;
$$;

DROP FUNCTION ledger_append(text, uuid[], text[], bigint[], text[], bytea[], bytea[],
                            timestamptz, text[], bigint[], text[], text[], bytea[], text[],
                            bytea[], text[], bytea[], text[], text[], text[], bigint[],
                            bigint[], text[], bytea[], text[], text[]);

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
    volume_amounts     bigint[]
) RETURNS TABLE (r_seq bigint, r_event_id uuid)
LANGUAGE plpgsql VOLATILE AS $$
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
        INSERT INTO w_programs (program_id, doc)
        SELECT * FROM unnest(program_ids, program_docs)
        ON CONFLICT (program_id) DO UPDATE SET doc = EXCLUDED.doc;
    END IF;
    IF cardinality(sme_ids) > 0 THEN
        INSERT INTO w_smes (sme_id, doc)
        SELECT * FROM unnest(sme_ids, sme_docs)
        ON CONFLICT (sme_id) DO UPDATE SET doc = EXCLUDED.doc;
    END IF;
    -- A guarantee's capped roles come as one comma-separated text each
    -- (arrays of arrays must be rectangular in PostgreSQL).
    IF cardinality(guarantee_ids) > 0 THEN
        INSERT INTO w_guarantees
               (guarantee_id, program_id, sme_id, loan_amount, balance, volume_roles, doc)
        SELECT g.id, g.program_id, g.sme_id, g.loan, g.balance,
               string_to_array(g.roles, ','), g.doc
          FROM unnest(guarantee_ids, guarantee_programs, guarantee_smes, guarantee_loans,
                      guarantee_balances, guarantee_roles, guarantee_docs)
               AS g(id, program_id, sme_id, loan, balance, roles, doc)
        ON CONFLICT (guarantee_id) DO UPDATE SET balance = EXCLUDED.balance, doc = EXCLUDED.doc;
    END IF;
    IF cardinality(claim_ids) > 0 THEN
        INSERT INTO w_claims (claim_id, guarantee_id)
        SELECT * FROM unnest(claim_ids, claim_guarantees);
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
