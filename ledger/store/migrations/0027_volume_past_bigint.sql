-- A program's volume is a sum of loan amounts (each at most 10^15 fen) over every
-- guarantee issued in it, with no bound on how many: past 2^63 - 1 fen a shard's
-- running total, or the sum of a program's shards, no longer fits a bigint, and
-- every compensation in that program failed. The shards hold numerics, and
-- ledger_prepare sends the sum as text (functions/ledger_prepare.sql).

ALTER TABLE w_program_volume ALTER COLUMN volume TYPE numeric;
