-- Which of 256 shards an SME's issuances add to in a program's running
-- compensation volume (w_program_volume): an issuance already holds its SME's
-- lock, so two issuances only wait for each other when their SMEs share a
-- shard. Its result is stored: changing it needs a migration that reshards.

CREATE OR REPLACE FUNCTION ledger_volume_shard(sme_id text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (hashtextextended(sme_id, 0) & 255)::integer;
