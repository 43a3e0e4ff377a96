-- One sealing round in one call: gives the next unsealed events their global
-- positions and links in the hash chain, and tells waiting posters. The link is
-- sha256(previous || position as 8 big-endian bytes || exact stored body), as
-- ledger/store/chain.py recomputes it. In order, and see
-- ledger/store/watermark.py and ledger/store/sealer.py for why:
-- 1. read which sessions are appending (pg_locks), before the scan's snapshot
--    is taken: each statement of a volatile function takes its own snapshot;
-- 2. in one statement, take the oldest appender of that snapshot as the
--    watermark and the unsealed events below it, from just after the head;
-- 3. link and insert them, and tell waiting posters, in this transaction.
-- The caller holds the sealer lock, so no other round runs meanwhile.

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
LANGUAGE plpgsql VOLATILE
-- Its statements, and those of the tree functions it calls, keep one generic plan
-- per connection. With PostgreSQL's choice, the scan below was planned afresh at
-- every round (its generic plan looks dearer, not knowing max_events): about 150 us
-- of each round, paid by every post when posts come one at a time. The generic
-- plans are the same index scans (the service's sessions run with enable_seqscan
-- off, see ledger/runtime.py).
SET plan_cache_mode = force_generic_plan
AS $$
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
    -- The Merkle tree grows by the same events' leaves (SHA-256 of 0x00 and the same
    -- exact stored bytes), in this transaction: functions/ledger_tree_append.sql.
    PERFORM ledger_tree_append(head_position, leaves);
    PERFORM pg_notify(sealed_channel, last_at::text);
    RETURN QUERY SELECT held_back, u.seq, u.position, u.hash, u.tx
                   FROM unnest(seqs, positions, hashes, txs) AS u(seq, position, hash, tx);
END;
$$;
