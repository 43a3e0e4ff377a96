-- Trigger on streams (migration 0015): a stream's business time moves with its
-- version, to the occurred_at of the event stored at that version. The rules keep
-- streams in business order, so that is the latest occurred_at in the stream.
-- ledger_append hands the time with the version, so the triggers (migration 0025)
-- call this only for a row inserted without one or a version moved without one.

CREATE OR REPLACE FUNCTION ledger_stream_occurred_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.occurred_at := (SELECT ledger_occurred_at(e.body) FROM events e
                         WHERE e.stream_id = NEW.stream_id AND e.stream_version = NEW.version);
    RETURN NEW;
END;
$$;
