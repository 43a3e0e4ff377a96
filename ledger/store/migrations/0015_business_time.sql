-- Business time (SPEC section 9): every stream keeps business order.
--
-- A stream remembers the latest occurred_at among its events, so that
-- ledger_prepare can hand it to the rules together with the stream's version:
-- an event whose occurred_at is earlier is refused (409 invalid-state). The
-- stream's lock, taken by ledger_prepare before it reads, makes the check hold
-- under concurrent posts to one stream, exactly as for stream versions.
--
-- The column is kept by a trigger on `streams` rather than by ledger_append:
-- whoever moves a stream's version (ledger_append, `ledger audit import`) moves
-- its business time with it, from the event stored at that version. The two
-- functions are created here for the trigger and the back-fill below; their one
-- definition is in ledger/store/functions/, as is ledger_prepare's reading of
-- the column.

ALTER TABLE streams ADD COLUMN occurred_at timestamptz;

-- occurred_at is the third field of the canonical stored bytes (after event_id
-- and type, which hold no quotes), so its first match is the envelope's own,
-- read without parsing the whole document.
CREATE FUNCTION ledger_occurred_at(body bytea) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN substring(convert_from(body, 'UTF8') FROM '"occurred_at":"([^"]*)"')::timestamptz;

CREATE FUNCTION ledger_stream_occurred_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.occurred_at := (SELECT ledger_occurred_at(e.body) FROM events e
                         WHERE e.stream_id = NEW.stream_id AND e.stream_version = NEW.version);
    RETURN NEW;
END;
$$;

CREATE TRIGGER streams_occurred_at
    BEFORE INSERT OR UPDATE OF version ON streams
    FOR EACH ROW EXECUTE FUNCTION ledger_stream_occurred_at();

UPDATE streams s SET occurred_at = (SELECT max(ledger_occurred_at(e.body)) FROM events e
                                     WHERE e.stream_id = s.stream_id);

-- The movements read model (projections/movements.py): per guarantee a document,
-- and per movement and institution a row that statements sum over. Both cuts a
-- statement makes, business dates up to a day and log positions up to a point,
-- are ranges of the one index (see the module for why that is exact).
INSERT INTO projection_checkpoints (name) VALUES ('movements') ON CONFLICT DO NOTHING;

CREATE TABLE proj_movements (LIKE proj_sme_exposure INCLUDING ALL);

CREATE TABLE proj_movement_rows (
    generation    integer     NOT NULL,
    institution_id text       NOT NULL,
    program_id    text        NOT NULL,
    business_date date        NOT NULL,
    position      bigint      NOT NULL,
    recorded_at   timestamptz NOT NULL,
    guarantee_id  text        NOT NULL,
    kind          text        NOT NULL,
    amount        bigint      NOT NULL,
    in_force      bigint      NOT NULL,
    share         bigint      NOT NULL
);

-- Covering, so that a statement reads the index alone.
CREATE INDEX proj_movement_rows_by_date ON proj_movement_rows
    (generation, institution_id, business_date, position)
    INCLUDE (recorded_at, program_id, kind, amount, in_force, share);

GRANT SELECT, INSERT, UPDATE, DELETE ON proj_movements, proj_movement_rows TO ledger_service;
