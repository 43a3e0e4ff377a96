-- The second of a post's two calls: writes the events, the streams' new
-- versions and the decision state they changed, adds to the programs'
-- running volumes, and the risk limits' state (migration 0016), and sends the
-- append notice if asked, in the caller's transaction (SECURITY INVOKER, like
-- ledger_prepare).

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
    head_occurred      timestamptz[],
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
LANGUAGE plpgsql VOLATILE
-- Its statements keep one generic plan per connection instead of being planned
-- again at every call (PostgreSQL's choice for a call with parameters): their
-- plans do not depend on the arrays passed, and a post then pays no planning.
SET plan_cache_mode = force_generic_plan
AS $$
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
        -- With each stream's business time, so its trigger need not read it back
        -- from the event just stored (migration 0025).
        INSERT INTO streams (stream_id, version, occurred_at)
        SELECT * FROM unnest(head_streams, head_versions, head_occurred)
        ON CONFLICT (stream_id) DO UPDATE
            SET version = EXCLUDED.version, occurred_at = EXCLUDED.occurred_at;
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
        -- A guarantor limited for the first time: its own row says so (migration
        -- 0022, read by ledger_prepare), and its guarantees now carry its id (once
        -- per guarantor, under the barrier that posts its first limit).
        IF cardinality(newly) > 0 THEN
            UPDATE w_institutions i SET limited = true WHERE i.institution_id = ANY(newly);
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

