-- The level-0 tile still filling keeps its hashes one row each, in
-- log_tile_leaves, instead of in a log_tiles row rewritten at every sealing
-- round. A round that seals one event (posts one at a time) appended 32 bytes to
-- a value of up to 8 kB, which PostgreSQL copies whole and stores out of line:
-- most of the tree's cost to such a post. A leaf is now one short row; when a
-- round fills the tile, its 256 hashes go into log_tiles as one full tile (never
-- changed again, as before) and its leaves are deleted. Tiles above level 0 fill
-- 256 times more slowly and stay as they were. log_tile_hashes is what readers
-- see: every tile, the one filling at level 0 included, in the layout of
-- log_tiles.

CREATE TABLE log_tile_leaves (
    idx  bigint   NOT NULL CHECK (idx >= 0),
    n    smallint NOT NULL CHECK (n BETWEEN 0 AND 255),
    hash bytea    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (idx, n)
);

-- Leaves are never changed, and leave only once the full tile holds them
-- (functions/ledger_tile_leaves_gone.sql, which replaces this on every start).
CREATE FUNCTION ledger_tile_leaves_gone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1
          FROM (SELECT g.idx, count(*) AS k, max(g.n) AS top,
                       string_agg(g.hash, ''::bytea ORDER BY g.n) AS hashes
                  FROM gone g GROUP BY g.idx) AS d
          LEFT JOIN log_tiles t ON t.level = 0 AND t.idx = d.idx AND length(t.hashes) = 8192
         WHERE t.idx IS NULL OR d.top <> d.k - 1
            OR substring(t.hashes FROM 1 FOR d.k::integer * 32) <> d.hashes) THEN
        RAISE EXCEPTION 'the leaves of a tile are kept until its full tile holds them'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER log_tile_leaves_kept AFTER DELETE ON log_tile_leaves
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_tile_leaves_gone();
CREATE TRIGGER log_tile_leaves_no_update BEFORE UPDATE ON log_tile_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER log_tile_leaves_no_truncate BEFORE TRUNCATE ON log_tile_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();

CREATE VIEW log_tile_hashes AS
    SELECT t.level, t.idx, t.hashes FROM log_tiles t
    UNION ALL
    SELECT 0::smallint, l.idx, string_agg(l.hash, ''::bytea ORDER BY l.n)
      FROM log_tile_leaves l GROUP BY l.idx;

-- The tile filling now moves over, leaf by leaf.
INSERT INTO log_tile_leaves (idx, n, hash)
SELECT t.idx, g, substring(t.hashes FROM g * 32 + 1 FOR 32)
  FROM log_tiles t, generate_series(0, length(t.hashes) / 32 - 1) AS g
 WHERE t.level = 0 AND length(t.hashes) < 8192;
ALTER TABLE log_tiles DISABLE TRIGGER log_tiles_no_delete;
DELETE FROM log_tiles WHERE level = 0 AND length(hashes) < 8192;
ALTER TABLE log_tiles ENABLE TRIGGER log_tiles_no_delete;

REVOKE ALL ON log_tile_leaves, log_tile_hashes FROM ledger_service;
GRANT SELECT, INSERT, DELETE ON log_tile_leaves TO ledger_service;
GRANT SELECT ON log_tile_hashes TO ledger_service;
