-- The event store: what posters append, and the sealed global log.
--
-- Posters insert into `events` concurrently; each row carries the id of the
-- transaction that wrote it. A single sealer (one at a time, advisory lock)
-- later gives every event a dense global position and a link in the SHA-256
-- chain, in (tx_id, seq) order, and only for transactions below the snapshot
-- xmin: those have all finished, so no event can still appear before them.
-- That is how readers get positions 1, 2, 3, ... without holes and without
-- ever skipping an event whose transaction committed late, while appends on
-- different streams are never serialised by a global lock.

CREATE TABLE events (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid        NOT NULL,
    stream_id      text        NOT NULL,
    stream_version bigint      NOT NULL CHECK (stream_version >= 1),
    type           text        NOT NULL,
    fingerprint    bytea       NOT NULL,
    body           bytea       NOT NULL,
    recorded_at    timestamptz NOT NULL,
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_tx_order ON events (tx_id, seq);

CREATE TABLE event_log (
    position bigint PRIMARY KEY CHECK (position >= 1),
    seq      bigint NOT NULL UNIQUE REFERENCES events (seq),
    hash     bytea  NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE streams (
    stream_id text PRIMARY KEY,
    version   bigint NOT NULL CHECK (version >= 1)
);

-- History is never rewritten: the database itself refuses it.
CREATE FUNCTION ledger_refuse_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % table is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER event_log_append_only
    BEFORE UPDATE OR DELETE ON event_log
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER event_log_no_truncate
    BEFORE TRUNCATE ON event_log
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
