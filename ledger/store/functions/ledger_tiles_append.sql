-- Append `entries` (hashes, in order) at tile level `lvl`, from entry `start`;
-- the roots of the tiles they complete go on to the level above (migration 0013).

CREATE OR REPLACE FUNCTION ledger_tiles_append(lvl integer, start bigint, entries bytea[]) RETURNS void
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
