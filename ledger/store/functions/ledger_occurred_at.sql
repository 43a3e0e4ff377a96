-- The occurred_at of an event from its stored bytes. It is the third field of
-- the canonical encoding (after event_id and type, which hold no quotes), so its
-- first match is the envelope's own, read without parsing the whole document.

CREATE OR REPLACE FUNCTION ledger_occurred_at(body bytea) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN substring(convert_from(body, 'UTF8') FROM '"occurred_at":"([^"]*)"')::timestamptz;
