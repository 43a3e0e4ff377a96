-- The log is also a Merkle tree (RFC 9162 section 2.1), kept by the sealer in
-- the transaction that gives the positions: leaf i is the event at position
-- i + 1, leaf hash = sha256(0x00 || the exact stored body, the bytes the chain
-- hashes), node = sha256(0x01 || left || right).
--
-- Stored as C2SP tlog-tiles of height 8 (Tessera's PostgreSQL layout): one row
-- per tile, its hashes concatenated, appended to until it holds 256 and never
-- changed again; a full tile's root is appended to the tile above. So an event
-- costs about two hashes (its leaf, and 255/256 of a node per tile), and any
-- proof is a handful of rows read by key. log_tree is the single-row tree
-- state; the checkpoints the active sealer signs are kept in log_checkpoints.

CREATE TABLE log_tiles (
    level  smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx    bigint   NOT NULL CHECK (idx >= 0),
    hashes bytea    NOT NULL
        CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
    PRIMARY KEY (level, idx)
);
-- Hashes do not compress: do not try on every append.
ALTER TABLE log_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;

CREATE TABLE log_tree (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    size bigint  NOT NULL CHECK (size >= 0)
);
INSERT INTO log_tree (size) VALUES (0);

-- Who the log is: its origin (the key name) and verifier key, fixed when the
-- store is first started with this release. The signing key is never here.
CREATE TABLE log_identity (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    origin       text NOT NULL,
    verifier_key text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every signed checkpoint, one per tree size: the key makes two checkpoints
-- of one size impossible, whoever signs.
CREATE TABLE log_checkpoints (
    size      bigint PRIMARY KEY CHECK (size >= 1),
    root      bytea  NOT NULL CHECK (length(root) = 32),
    note      text   NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT now()
);

-- Witnesses' cosignatures, each a signature line over a checkpoint the log signed.
CREATE TABLE log_cosignatures (
    size        bigint NOT NULL REFERENCES log_checkpoints (size),
    witness_id  text   NOT NULL,
    line        text   NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (size, witness_id)
);

-- A tile only grows, until full; the tree only grows; the rest is append-only.
CREATE FUNCTION ledger_tile_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.level <> OLD.level OR NEW.idx <> OLD.idx OR length(OLD.hashes) = 8192
       OR substring(NEW.hashes FROM 1 FOR length(OLD.hashes)) <> OLD.hashes THEN
        RAISE EXCEPTION 'tile %/% can only grow until full', OLD.level, OLD.idx
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION ledger_tree_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'the Merkle tree can only grow' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER log_tiles_grow BEFORE UPDATE ON log_tiles
    FOR EACH ROW EXECUTE FUNCTION ledger_tile_grows();
CREATE TRIGGER log_tree_grows BEFORE UPDATE ON log_tree
    FOR EACH ROW EXECUTE FUNCTION ledger_tree_grows();
CREATE TRIGGER log_tiles_no_delete BEFORE DELETE ON log_tiles
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_tree_no_delete BEFORE DELETE ON log_tree
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_identity_append_only BEFORE UPDATE OR DELETE ON log_identity
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_cosignatures_append_only BEFORE UPDATE OR DELETE ON log_cosignatures
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_tiles_no_truncate BEFORE TRUNCATE ON log_tiles
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_tree_no_truncate BEFORE TRUNCATE ON log_tree
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_identity_no_truncate BEFORE TRUNCATE ON log_identity
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_checkpoints_no_truncate BEFORE TRUNCATE ON log_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_cosignatures_no_truncate BEFORE TRUNCATE ON log_cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();

REVOKE ALL ON log_tiles, log_tree, log_identity, log_checkpoints, log_cosignatures
    FROM ledger_service;
GRANT SELECT, INSERT, UPDATE ON log_tiles, log_tree TO ledger_service;
GRANT SELECT, INSERT ON log_identity, log_checkpoints, log_cosignatures TO ledger_service;

-- The root of a full tile: its 256 hashes hashed pairwise, eight levels up.
CREATE FUNCTION ledger_tile_root(tile bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    cur bytea := tile;
    n   integer := length(tile) / 32;
BEGIN
    WHILE n > 1 LOOP
        SELECT string_agg(sha256('\x01'::bytea || substring(cur FROM g * 64 + 1 FOR 64)),
                          ''::bytea ORDER BY g)
          INTO cur FROM generate_series(0, n / 2 - 1) AS g;
        n := n / 2;
    END LOOP;
    RETURN cur;
END;
$$;

-- Append `entries` (hashes, in order) at tile level `lvl`, from entry `start`;
-- the roots of the tiles they complete go on to the level above.
CREATE FUNCTION ledger_tiles_append(lvl integer, start bigint, entries bytea[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n      integer := cardinality(entries);
    i      integer := 1;
    at     bigint := start;
    tile   bigint;
    off    integer;
    take   integer;
    chunk  bytea;
    filled bytea;
    carry  bytea[] := '{}';
BEGIN
    WHILE i <= n LOOP
        tile := at / 256;
        off := (at % 256)::integer;
        take := least(256 - off, n - i + 1);
        SELECT string_agg(u.e, ''::bytea ORDER BY u.o) INTO chunk
          FROM unnest(entries[i:i + take - 1]) WITH ORDINALITY AS u(e, o);
        IF off = 0 THEN
            INSERT INTO log_tiles (level, idx, hashes) VALUES (lvl, tile, chunk);
            filled := chunk;
        ELSIF off + take = 256 THEN
            UPDATE log_tiles SET hashes = hashes || chunk
             WHERE level = lvl AND idx = tile AND length(hashes) = off * 32
            RETURNING hashes INTO filled;
        ELSE
            UPDATE log_tiles SET hashes = hashes || chunk
             WHERE level = lvl AND idx = tile AND length(hashes) = off * 32;
        END IF;
        IF off > 0 AND NOT FOUND THEN
            RAISE EXCEPTION 'tile %/% does not end at entry %', lvl, tile, at;
        END IF;
        IF off + take = 256 THEN
            carry := carry || ledger_tile_root(filled);
        END IF;
        i := i + take;
        at := at + take;
    END LOOP;
    IF cardinality(carry) > 0 THEN
        PERFORM ledger_tiles_append(lvl + 1, start / 256, carry);
    END IF;
END;
$$;

-- Grow the tree from `start` leaves by `leaves`; refuse if it is not at `start`.
CREATE FUNCTION ledger_tree_append(start bigint, leaves bytea[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF cardinality(leaves) IS NULL OR cardinality(leaves) = 0 THEN
        RETURN;
    END IF;
    UPDATE log_tree SET size = start + cardinality(leaves) WHERE size = start;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the Merkle tree is not at size %', start;
    END IF;
    PERFORM ledger_tiles_append(0, start, leaves);
END;
$$;

-- Build the tree of what is sealed and not yet in it (an upgraded store, an
-- imported log), in rounds of 65 536 leaves; return the tree's size.
CREATE FUNCTION ledger_tree_catch_up() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    at     bigint;
    leaves bytea[];
BEGIN
    SELECT size INTO at FROM log_tree FOR UPDATE;
    LOOP
        SELECT array_agg(sha256('\x00'::bytea || e.body) ORDER BY l.position) INTO leaves
          FROM event_log l JOIN events e USING (seq)
         WHERE l.position > at AND l.position <= at + 65536;
        EXIT WHEN leaves IS NULL;
        PERFORM ledger_tree_append(at, leaves);
        at := at + cardinality(leaves);
    END LOOP;
    RETURN at;
END;
$$;

SELECT ledger_tree_catch_up();

-- ledger_seal as in 0010, now also growing the tree by the leaves of the events
-- it seals, in the same transaction: sha256(0x00 || body) is one more call of
-- the hash it already makes per event, and the tiles are one row update a
-- round (plus, every 256 events, the full tile's root).
CREATE OR REPLACE FUNCTION ledger_seal(
    head_position  bigint,
    head_hash      bytea,
    head_tx        text,
    head_seq       bigint,
    max_events     integer,
    lock_class     bigint,
    lock_object    bigint,
    sealed_channel text
) RETURNS TABLE (r_held boolean, r_seq bigint, r_position bigint, r_hash bytea, r_tx_id text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    seen      text[];
    next_xid  text;
    held_back boolean := false;
    seqs      bigint[] := '{}';
    positions bigint[] := '{}';
    hashes    bytea[] := '{}';
    txs       text[] := '{}';
    leaves    bytea[] := '{}';
    last_at   bigint := head_position;
    chained   bytea := head_hash;
    candidate record;
BEGIN
    WITH holders AS (
        SELECT array_agg(l.transactionid::text)
                   FILTER (WHERE l.locktype = 'transactionid') AS xids
          FROM pg_locks l
         WHERE l.granted
           AND ((l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock')
                OR (l.locktype = 'advisory' AND l.classid::bigint = lock_class
                    AND l.objid::bigint = lock_object AND l.objsubid = 1
                    AND l.database = (SELECT d.oid FROM pg_database d
                                       WHERE d.datname = current_database())))
         GROUP BY l.pid
        HAVING bool_or(l.locktype = 'advisory'))
    SELECT pg_snapshot_xmax(pg_current_snapshot())::text,
           coalesce((SELECT array_agg(x) FROM holders, unnest(holders.xids) AS x
                      WHERE x IS NOT NULL), '{}')
      INTO next_xid, seen;

    FOR candidate IN
        WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
        bound AS MATERIALIZED (
            SELECT coalesce(
                       (SELECT x FROM snap, pg_snapshot_xip(snap.s) AS x
                         WHERE x::xid = ANY(seen::xid[]) OR x >= next_xid::xid8
                         ORDER BY x LIMIT 1),
                       (SELECT pg_snapshot_xmax(snap.s) FROM snap)) AS below),
        -- Whether committed events wait at or above the watermark. Every sealed
        -- transaction lies below any later watermark (an appender still running
        -- when it was sealed would have held the watermark below it), so no bound
        -- from the head is needed; the watermark as a plain parameter starts the
        -- index scan there, where beside the head's row comparison it walked the
        -- whole unsealed backlog. `held` only sets how soon the sealer looks again.
        held AS MATERIALIZED (
            SELECT EXISTS (SELECT 1 FROM events w
                            WHERE w.tx_id >= (SELECT below FROM bound)) AS held)
        SELECT held.held, c.seq, c.tx_id::text AS tx_id,
               (SELECT e.body FROM events e WHERE e.seq = c.seq) AS body,
               (SELECT true FROM event_log l WHERE l.seq = c.seq) AS sealed
          FROM held
          -- The watermark as a parameter here too, so the scan ends at it rather
          -- than reading on through events held back above it.
          LEFT JOIN LATERAL (
                SELECT ev.seq, ev.tx_id FROM events ev
                 WHERE (ev.tx_id, ev.seq) > (head_tx::xid8, head_seq)
                   AND ev.tx_id < (SELECT below FROM bound)
                 ORDER BY ev.tx_id, ev.seq
                 LIMIT max_events) AS c ON true
         ORDER BY c.tx_id, c.seq
    LOOP
        held_back := candidate.held;
        -- No candidate (the scan still answers `held`), or sealed already: skip.
        CONTINUE WHEN candidate.seq IS NULL OR candidate.sealed IS NOT NULL;
        last_at := last_at + 1;
        chained := sha256(chained || int8send(last_at) || candidate.body);
        seqs := seqs || candidate.seq;
        positions := positions || last_at;
        hashes := hashes || chained;
        txs := txs || candidate.tx_id;
        leaves := leaves || sha256('\x00'::bytea || candidate.body);
    END LOOP;

    IF cardinality(seqs) = 0 THEN
        RETURN QUERY SELECT held_back, NULL::bigint, NULL::bigint, NULL::bytea, NULL::text;
        RETURN;
    END IF;
    INSERT INTO event_log (position, seq, hash)
    SELECT * FROM unnest(positions, seqs, hashes);
    PERFORM ledger_tree_append(head_position, leaves);
    PERFORM pg_notify(sealed_channel, last_at::text);
    RETURN QUERY SELECT held_back, u.seq, u.position, u.hash, u.tx
                   FROM unnest(seqs, positions, hashes, txs) AS u(seq, position, hash, tx);
END;
$$;
