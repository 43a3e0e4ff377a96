-- The root of a full tile: its 256 hashes hashed pairwise, eight levels up.

CREATE OR REPLACE FUNCTION ledger_tile_root(tile bytea) RETURNS bytea
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
