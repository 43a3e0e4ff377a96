-- log_tile_leaves holds at most the 255 leaves of the tile still filling, but
-- every full tile deletes 256 rows: without a vacuum its heap and index grow
-- with the log (60 MB of dead rows after 1.6 million events, never vacuumed,
-- since PostgreSQL's default waits for a fifth of a size it estimated from
-- that very bloat). Vacuum and analyze it whenever a few tiles' worth of rows
-- are dead, whatever its size.

ALTER TABLE log_tile_leaves SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 1024,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 1024
);
