-- Whether an institution has recorded limits, on its own decision-state row:
-- ledger_prepare reads that row for every post anyway, so a post learns that
-- no limit applies to it without reading (or joining) the limits' table.
-- Before this, every institution row ledger_prepare returned was joined with
-- w_guarantor_limits, a cost every post paid, with or without limits.
--
-- `limited` is true exactly when the institution has a w_guarantor_limits row
-- (net assets or limits recorded). ledger_append sets it in the transaction
-- that writes that row, which is a barrier (it holds the append lock
-- exclusively): no post is under way when it changes, so what a post reads
-- stands for its whole transaction, as migration 0016 describes.
--
-- Adding a column with a constant default rewrites nothing; the backfill
-- touches only the institutions with limits.

ALTER TABLE w_institutions ADD COLUMN limited boolean NOT NULL DEFAULT false;

UPDATE w_institutions i
   SET limited = true
 WHERE EXISTS (SELECT 1 FROM w_guarantor_limits l WHERE l.institution_id = i.institution_id);
