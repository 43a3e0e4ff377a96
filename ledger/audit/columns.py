"""Checking the values stored beside an event's bytes against the bytes themselves.

An event row keeps, next to its exact stored bytes (the body, which the chain
hashes), copies the ledger looks events up by and answers reposts with: its
event_id, stream_id, stream_version, type and recorded_at, and the fingerprint
of what the poster sent. The chain covers only the body, so each copy is
checked against it here: the first five must equal the body's own fields; the
fingerprint is not in the body at all but is derived from it (see
`_fits`), so it is recomputed. Verify and export run this on every row
they scan: a rewritten copy is caught without changing what is hashed, so every
event already stored verifies as before.
"""

from __future__ import annotations

import datetime
import hashlib

import msgspec

from events.stored import CANONICAL
from ledger.audit.scan import ScannedEvent


class _Hashed(msgspec.Struct, frozen=True):
    # The fields of the stored bytes that a column copies or the fingerprint
    # covers. Raw keeps the exact JSON text, so the fingerprint is rebuilt from
    # the very bytes that were hashed; the rest of the body is skipped unparsed.
    event_id: str
    type: str
    occurred_at: msgspec.Raw
    expected_version: msgspec.Raw
    data: msgspec.Raw
    stream_id: str
    stream_version: int
    recorded_at: msgspec.Raw


_hashed = msgspec.json.Decoder(_Hashed)
_moment = msgspec.json.Decoder(datetime.datetime)


def _fits(hashed: _Hashed, fingerprint: bytes) -> bool:
    """Whether `fingerprint` is one a post that stored these bytes can have had.

    The fingerprint hashes what the poster sent (events.envelope.posted_fingerprint):
    event_id, type, occurred_at as sent (null when left out), expected_version and
    the data, canonically encoded, as the body encodes them. A left-out occurred_at
    is stored as recorded_at, so when the two are the same text the poster may have
    sent either (both posts store exactly these bytes); left out is the usual case,
    so it is tried first.
    """
    event_id, type_, expected, data = (
        hashed.event_id,
        hashed.type,
        hashed.expected_version,
        hashed.data,
    )
    if hashed.occurred_at == hashed.recorded_at:
        omitted = CANONICAL.encode([event_id, type_, None, expected, data])
        if hashlib.sha256(omitted).digest() == fingerprint:
            return True
    sent = CANONICAL.encode([event_id, type_, hashed.occurred_at, expected, data])
    return hashlib.sha256(sent).digest() == fingerprint


def fingerprint_matches(body: bytes, fingerprint: bytes) -> bool:
    """Whether `fingerprint` is one a post that stored `body` can have had."""
    try:
        return _fits(_hashed.decode(body), fingerprint)
    except msgspec.DecodeError:
        return False


def disagreement(event: ScannedEvent) -> str | None:
    """How a value stored beside the event's body differs from the body (None when all agree).

    For a scanned row whose event row is present (its body is not None).
    """
    try:
        hashed = _hashed.decode(event.body or b"")
        recorded_at = _moment.decode(hashed.recorded_at)
    except msgspec.DecodeError as exc:
        return f"its stored bytes are not a stored event ({exc})"
    # The cheap comparisons first; the fingerprint costs a hash. Verify runs this for
    # every event of the log, so it is written out rather than looped over pairs.
    if event.event_id != hashed.event_id:
        return _differs("event_id", event.event_id, hashed.event_id)
    if event.stream_id != hashed.stream_id:
        return _differs("stream_id", event.stream_id, hashed.stream_id)
    if event.stream_version != hashed.stream_version:
        return _differs("stream_version", event.stream_version, hashed.stream_version)
    if event.type != hashed.type:
        return _differs("type", event.type, hashed.type)
    stored_at = event.recorded_at
    # PostgreSQL gives the moment back in UTC: comparing it to the body's moment in
    # that same zone is three times as fast as across zones.
    if stored_at is None or stored_at != recorded_at.astimezone(stored_at.tzinfo):
        return _differs("recorded_at", stored_at, recorded_at)
    if event.fingerprint is None or not _fits(hashed, event.fingerprint):
        shown = "nothing" if event.fingerprint is None else event.fingerprint.hex()
        return f"its fingerprint is stored as {shown}, which no post of its hashed bytes gives"
    return None


def _differs(column: str, kept: object, told: object) -> str:
    return f"its {column} is stored as {_shown(kept)}, its hashed bytes say {_shown(told)}"


def _shown(value: object) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return repr(value)
