-- Trigger: the Merkle tree state only grows (0013).

CREATE OR REPLACE FUNCTION ledger_tree_grows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'the Merkle tree can only grow' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
