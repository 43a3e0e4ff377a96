-- The occurred_at of an event from its stored bytes. It is the third field of
-- the canonical encoding (after event_id and type, which hold no quotes), so its
-- first "occurred_at":" is the envelope's own: the value is the bytes from there
-- to the next quote, found without decoding or matching the rest of the document
-- (a regular expression over the whole body cost three times as much, and this
-- runs for every event a post stores: the streams' business time).

CREATE OR REPLACE FUNCTION ledger_occurred_at(body bytea) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (SELECT CASE WHEN f.at > 0 THEN
                   convert_from(substring(body FROM f.at + 15
                                FOR position('"'::bytea IN substring(body FROM f.at + 15 FOR 64)) - 1),
                                'UTF8')::timestamptz
               END
          FROM (SELECT position('"occurred_at":"'::bytea IN body) AS at) AS f);
