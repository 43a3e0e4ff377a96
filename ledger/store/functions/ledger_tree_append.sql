-- Grow the Merkle tree from `start` leaves by `leaves` (their hashes, in order);
-- refuse if it is not at `start`. Called by ledger_seal in its transaction.

CREATE OR REPLACE FUNCTION ledger_tree_append(start bigint, leaves bytea[]) RETURNS void
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
