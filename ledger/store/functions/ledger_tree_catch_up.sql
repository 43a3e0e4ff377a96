-- Add to the Merkle tree up to `max_leaves` sealed events it does not hold yet (a
-- store of an earlier release, an imported log); return how many it added, 0 once
-- the tree holds the whole log. The active sealer calls it before its first round.

CREATE OR REPLACE FUNCTION ledger_tree_catch_up(max_leaves integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    at     bigint;
    leaves bytea[];
BEGIN
    SELECT size INTO at FROM log_tree FOR UPDATE;
    SELECT array_agg(sha256('\x00'::bytea || e.body) ORDER BY l.position) INTO leaves
      FROM event_log l JOIN events e USING (seq)
     WHERE l.position > at AND l.position <= at + max_leaves;
    IF leaves IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM ledger_tree_append(at, leaves);
    RETURN cardinality(leaves);
END;
$$;
