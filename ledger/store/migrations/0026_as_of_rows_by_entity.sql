-- The as-of read model writes one '*' row for every event (migration 0021), and
-- the by-date index took each of them beside the two partial indexes made for
-- them, which are the only ones their queries read. The by-date index now holds
-- the entities' own rows alone: a row fewer to insert for every event, and half
-- as many entries to walk for a store of registrations. Its queries say
-- `entity <> '*'` (ledger/audit/as_of_rows.py and the modules beside it), so the
-- planner sees they may read it.

DROP INDEX proj_as_of_rows_by_date;

CREATE INDEX proj_as_of_rows_by_date ON proj_as_of_rows
    (generation, entity, business_date, position)
    WHERE entity <> '*';
