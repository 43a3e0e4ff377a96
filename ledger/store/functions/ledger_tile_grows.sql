-- Trigger: a tile row only grows, by hashes appended, until it holds 256 (0013).

CREATE OR REPLACE FUNCTION ledger_tile_grows() RETURNS trigger
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
