-- Append `entries` (hashes, in order) at tile level `lvl`, from entry `start`;
-- the roots of the tiles they complete go on to the level above (migration 0013).
-- At level 0 the tile still filling is kept a leaf per row (log_tile_leaves,
-- migration 0023): a round adds its leaves' rows, and the round that fills the
-- tile writes it whole into log_tiles and deletes them.

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
        IF lvl = 0 AND off + take < 256 THEN
            -- A leaf taken twice fails on the key; one missing, when the tile fills.
            INSERT INTO log_tile_leaves (idx, n, hash)
            SELECT tile, off + u.o - 1, u.e
              FROM unnest(entries[i:i + take - 1]) WITH ORDINALITY AS u(e, o);
        ELSE
            SELECT string_agg(u.e, ''::bytea ORDER BY u.o) INTO chunk
              FROM unnest(entries[i:i + take - 1]) WITH ORDINALITY AS u(e, o);
            IF lvl = 0 THEN
                SELECT coalesce(string_agg(l.hash, ''::bytea ORDER BY l.n), ''::bytea)
                  INTO filled FROM log_tile_leaves l WHERE l.idx = tile;
                IF length(filled) <> off * 32 THEN
                    RAISE EXCEPTION 'tile %/% does not end at entry %', lvl, tile, at;
                END IF;
                filled := filled || chunk;
                INSERT INTO log_tiles (level, idx, hashes) VALUES (lvl, tile, filled);
                DELETE FROM log_tile_leaves WHERE idx = tile;
            ELSIF off = 0 THEN
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
            IF lvl > 0 AND off > 0 AND NOT FOUND THEN
                RAISE EXCEPTION 'tile %/% does not end at entry %', lvl, tile, at;
            END IF;
            IF off + take = 256 THEN
                carry := carry || ledger_tile_root(filled);
            END IF;
        END IF;
        i := i + take;
        at := at + take;
    END LOOP;
    IF cardinality(carry) > 0 THEN
        PERFORM ledger_tiles_append(lvl + 1, start / 256, carry);
    END IF;
END;
$$;
