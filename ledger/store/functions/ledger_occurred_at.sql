-- The occurred_at of an event from its stored bytes. It is the third field of
-- the canonical encoding (after event_id and type, which hold no quotes), so its
-- first "occurred_at":" is the envelope's own: the value is the bytes from there
-- to the next quote, found without decoding or matching the rest of the document
-- (a regular expression over the whole body cost three times as much, and this
-- runs for every event a post stores: the streams' business time).
--
-- One expression with no subquery, and STABLE like the cast from text it ends
-- with: PostgreSQL then inlines it into the statement that calls it. Run as a
-- function of its own instead, PostgreSQL 15 read and planned its body again for
-- every stream row a post writes, which was half the appends' database time in
-- batches of SME registrations.

CREATE OR REPLACE FUNCTION ledger_occurred_at(body bytea) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE WHEN position('"occurred_at":"'::bytea IN body) > 0 THEN
           convert_from(
               substring(body FROM position('"occurred_at":"'::bytea IN body) + 15
                         FOR position('"'::bytea IN
                                      substring(body FROM position('"occurred_at":"'::bytea IN body) + 15
                                                FOR 64)) - 1),
               'UTF8')::timestamptz
       END;
