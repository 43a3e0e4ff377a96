-- The second, optional call of a post (after ledger_prepare, before the rules
-- decide): the risk limits' locks and state (docs/limits.md, migration 0016),
-- for a post that ledger_prepare's rows showed one applies to.
--
-- Its locks ("guarantor:G" for a guarantor with limits, "breaker:P I" for an
-- institution's compensation-rate breaker in a program) are taken after all
-- of ledger_prepare's and in their own hash order: a transaction holding one
-- never waits for one of ledger_prepare's, so posts never deadlock. Whether a
-- limit applies changes only under the exclusive append lock (a barrier), so
-- what ledger_prepare's rows showed stands for the whole transaction.
--
-- Rows: 'limits' (r_key institution, r_doc its GuarantorLimits), 'exposure'
-- (r_key guarantor, r_key2 NULL for its total or an SME, r_n1 in force),
-- 'breaker' (r_key program, r_key2 institution, r_n1 year, r_doc its Breaker).

CREATE OR REPLACE FUNCTION ledger_prepare_limits(
    take_locks           boolean,
    barrier              boolean,
    limited              text[],
    limit_guarantors     text[],
    limit_smes           text[],
    limit_institutions   text[],
    b_prog               text[],
    b_inst               text[],
    b_excl               boolean[]
) RETURNS TABLE (r_kind text, r_key text, r_key2 text, r_n1 numeric, r_doc bytea)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- The limits' own locks, after the footprint's (none when reading without locks).
    IF take_locks THEN
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
            SELECT 'limits', l.institution_id, NULL::text, NULL::numeric, l.doc
              FROM w_guarantor_limits l WHERE l.institution_id = ANY(limited);
        -- In force per guarantor in total (r_key2 NULL) and to each SME the post names,
        -- as numerics: a guarantor's total has no bound a bigint could hold.
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
                  FROM unnest(limit_guarantors, limit_smes) AS k(gid, sme_id))
            SELECT 'exposure', ex.gid, NULL::text, sum(ex.balance), NULL::bytea
              FROM ex GROUP BY ex.gid
            UNION ALL
            SELECT 'exposure', ex.gid, ex.sme_id, sum(ex.balance), NULL::bytea
              FROM ex JOIN pairs ON pairs.gid = ex.gid AND pairs.sme_id = ex.sme_id
             GROUP BY ex.gid, ex.sme_id;
    END IF;
    IF cardinality(b_prog) > 0 THEN
        RETURN QUERY
            SELECT 'breaker', b.program_id, b.institution_id, b.year::numeric, b.doc
              FROM w_breakers b
              JOIN (SELECT DISTINCT * FROM unnest(b_prog, b_inst)) AS k(p, i)
                ON b.program_id = k.p AND b.institution_id = k.i;
    END IF;
END;
$$;
