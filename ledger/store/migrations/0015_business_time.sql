-- Business time (SPEC section 9): every stream keeps business order.
--
-- A stream remembers the latest occurred_at among its events, so that
-- ledger_prepare can hand it to the rules together with the stream's version:
-- an event whose occurred_at is earlier is refused (409 invalid-state). The
-- stream's lock, taken by ledger_prepare before it reads, makes the check hold
-- under concurrent posts to one stream, exactly as for stream versions.
--
-- The column is kept by a trigger on `streams` rather than by ledger_append:
-- whoever moves a stream's version (ledger_append, `ledger audit import`) moves
-- its business time with it, from the event stored at that version.

ALTER TABLE streams ADD COLUMN occurred_at timestamptz;

-- occurred_at is the third field of the canonical stored bytes (after event_id
-- and type, which hold no quotes), so its first match is the envelope's own,
-- read without parsing the whole document.
CREATE FUNCTION ledger_occurred_at(body bytea) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN substring(convert_from(body, 'UTF8') FROM '"occurred_at":"([^"]*)"')::timestamptz;

CREATE FUNCTION ledger_stream_occurred_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.occurred_at := (SELECT ledger_occurred_at(e.body) FROM events e
                         WHERE e.stream_id = NEW.stream_id AND e.stream_version = NEW.version);
    RETURN NEW;
END;
$$;

CREATE TRIGGER streams_occurred_at
    BEFORE INSERT OR UPDATE OF version ON streams
    FOR EACH ROW EXECUTE FUNCTION ledger_stream_occurred_at();

UPDATE streams s SET occurred_at = (SELECT max(ledger_occurred_at(e.body)) FROM events e
                                     WHERE e.stream_id = s.stream_id);

-- As in migration 0012, except that a stream's row carries its business time.
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
    key_ids          text[]
) RETURNS TABLE (r_kind text, r_key text, r_key2 text, r_key3 text, r_n1 bigint,
                 r_n2 bigint, r_n3 bigint, r_doc bytea, r_at timestamptz)
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
            -- With the stream's business time, for the rules to keep it in order.
            SELECT 'version', s.stream_id, NULL::text, NULL::text, s.version, NULL::bigint, NULL::bigint,
                   NULL::bytea, s.occurred_at
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
END;
$$;

-- The movements read model (projections/movements.py): per guarantee a document,
-- and per movement and institution a row that statements sum over. Both cuts a
-- statement makes, business dates up to a day and log positions up to a point,
-- are ranges of the one index (see the module for why that is exact).
INSERT INTO projection_checkpoints (name) VALUES ('movements') ON CONFLICT DO NOTHING;

CREATE TABLE proj_movements (LIKE proj_sme_exposure INCLUDING ALL);

CREATE TABLE proj_movement_rows (
    generation    integer     NOT NULL,
    institution_id text       NOT NULL,
    program_id    text        NOT NULL,
    business_date date        NOT NULL,
    position      bigint      NOT NULL,
    recorded_at   timestamptz NOT NULL,
    guarantee_id  text        NOT NULL,
    kind          text        NOT NULL,
    amount        bigint      NOT NULL,
    in_force      bigint      NOT NULL,
    share         bigint      NOT NULL
);

-- Covering, so that a statement reads the index alone.
CREATE INDEX proj_movement_rows_by_date ON proj_movement_rows
    (generation, institution_id, business_date, position)
    INCLUDE (recorded_at, program_id, kind, amount, in_force, share);

GRANT SELECT, INSERT, UPDATE, DELETE ON proj_movements, proj_movement_rows TO ledger_service;
