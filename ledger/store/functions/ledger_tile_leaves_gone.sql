-- Trigger, once per DELETE on log_tile_leaves (migration 0023): the leaves of a
-- level-0 tile leave only together with every leaf before them, and only once the
-- full tile in log_tiles holds exactly those hashes first. One comparison per
-- tile, so filling a tile reads its 8 kB once, not once per leaf.

CREATE OR REPLACE FUNCTION ledger_tile_leaves_gone() RETURNS trigger
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
