-- A stream's business time (migration 0015) now comes with its new version
-- from ledger_append, which has it at hand: the rules decided it, and it is the
-- occurred_at of the event stored at that version. The trigger read that event
-- back for every stream a post moved (an index lookup and a pattern match on its
-- bytes, a fifth of the appending backend's work on batches of registrations).
--
-- It stays for every other writer: a row inserted without a business time, or a
-- version moved without a new one (`ledger audit import`), takes it from the
-- stored event as before. A version moved with the time it already had is read
-- back too, which gives the same time.

DROP TRIGGER streams_occurred_at ON streams;

CREATE TRIGGER streams_occurred_at
    BEFORE INSERT ON streams
    FOR EACH ROW WHEN (NEW.occurred_at IS NULL)
    EXECUTE FUNCTION ledger_stream_occurred_at();

CREATE TRIGGER streams_occurred_at_moved
    BEFORE UPDATE OF version ON streams
    FOR EACH ROW WHEN (NEW.occurred_at IS NOT DISTINCT FROM OLD.occurred_at)
    EXECUTE FUNCTION ledger_stream_occurred_at();
