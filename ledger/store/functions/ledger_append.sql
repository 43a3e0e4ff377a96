-- The second of a post's two calls: writes the events, the streams' new
-- versions and the decision state they changed, adds to the programs'
-- running volumes, and sends the append notice if asked, in the caller's
-- transaction (SECURITY INVOKER, like ledger_prepare).

CREATE OR REPLACE FUNCTION ledger_append(
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
