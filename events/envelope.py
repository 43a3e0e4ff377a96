"""Posted envelopes: strict decoding of one event or a batch, and repost fingerprints."""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid
from typing import Annotated

import msgspec
from msgspec import Meta

from events.derived import Derived
from events.duplicate_keys import duplicate_key_errors
from events.errors import (
    FieldError,
    InvalidEvents,
    MalformedJson,
    TooManyEvents,
    field_error,
    shorten,
)
from events.map_keys import name_map_keys
from events.payloads import EVENT_TYPES, PAYLOADS, Payload, ProgramAmended, ProgramRegistered
from events.posted_times import posted_time_errors
from events.stored import (
    CANONICAL,
    Actor,
    AwareDatetime,
    LogEntry,
    StoredEvent,
    decode_stored,
    encode_log_entries,
    encode_stored,
    read_log_entry,
    to_json_dict,
)
from events.terms import terms_errors

__all__ = [
    "MAX_BATCH",
    "MAX_VERSION",
    "Actor",
    "Envelope",
    "FieldError",
    "InvalidEvents",
    "LogEntry",
    "MalformedJson",
    "Posted",
    "PostedBatch",
    "StoredEvent",
    "TooManyEvents",
    "decode_payload",
    "decode_posted",
    "decode_stored",
    "encode_log_entries",
    "encode_stored",
    "posted_fingerprint",
    "read_log_entry",
    "store_posted",
    "to_json_dict",
]

MAX_BATCH = 1000
"""Most events one post may carry."""

MAX_VERSION = 2**31 - 1
"""Largest expected_version accepted (far beyond any real stream, safe for any int column)."""


class Envelope(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One posted event as received: id, type, optional business time and version check."""

    event_id: uuid.UUID
    type: str
    occurred_at: AwareDatetime | None = None
    expected_version: Annotated[int, Meta(ge=0, le=MAX_VERSION)] | None = None
    data: msgspec.Raw


class Posted(msgspec.Struct, frozen=True):
    """A posted event that passed validation: its envelope and its decoded data."""

    envelope: Envelope
    payload: Payload
    event_id: str
    """The event id in canonical (lower-case, hyphenated) form, spelled once: a post
    looks it up many times and str(UUID) is slow."""

    @property
    def type(self) -> str:
        """Return the stable event type name."""
        return self.envelope.type

    @property
    def stream_id(self) -> str:
        """Return the id of the stream the event belongs to."""
        return self.payload.stream_id


class PostedBatch(msgspec.Struct, frozen=True):
    """All events of one post, and whether they came as a JSON array."""

    events: list[Posted]
    is_array: bool


_TOP = msgspec.json.Decoder(Envelope | list[msgspec.Raw])
_ENVELOPE = msgspec.json.Decoder(Envelope)
_ANY = msgspec.json.Decoder()
_PAYLOADS = {name: msgspec.json.Decoder(cls) for name, cls in PAYLOADS.items()}
_UNREADABLE = (msgspec.DecodeError, UnicodeDecodeError, RecursionError)


_LONE_HIGH_SURROGATE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u)")
"""An escaped high surrogate with no escape after it, which msgspec calls truncation: a
`\\u` after an odd number of backslashes (`\\\\ud800` is a backslash, then text)."""


def _malformed(exc: BaseException, body: bytes) -> MalformedJson:
    if isinstance(exc, RecursionError):
        return MalformedJson("body is nested too deeply")
    if isinstance(exc, UnicodeDecodeError):
        return MalformedJson("body is not valid UTF-8")
    truncated = str(exc) == "Input data was truncated"
    lone = _LONE_HIGH_SURROGATE.search(body) if truncated else None
    if lone is not None:
        escape = lone.group(0).lstrip(b"\\").decode()
        at = lone.end() - len(escape) - 1
        return MalformedJson(
            f"body is not JSON: the escape \\{escape} at byte {at} is half of a "
            "surrogate pair, and the low half (\\uDC00 to \\uDFFF) does not follow it"
        )
    return MalformedJson(f"body is not JSON: {exc}")


def _require_json(body: bytes) -> None:
    # A typed decode stops at the first wrong type, possibly before a syntax error
    # further on; a body that is not JSON at all must be told apart (400, not 422).
    try:
        _ANY.decode(body)
    except msgspec.ValidationError:
        pass  # JSON, but e.g. a number too large to represent
    except _UNREADABLE as exc:
        raise _malformed(exc, body) from None


def _payload_or_errors(
    type_: str, data: bytes | msgspec.Raw, path: str
) -> Payload | list[FieldError]:
    # Callers have checked that the type is known.
    decoder = _PAYLOADS[type_]
    try:
        payload = decoder.decode(data)
    except msgspec.ValidationError as exc:
        error = field_error(exc, path)
        if "[...]" not in error.path:
            return [error]

        def again(trial: bytes) -> FieldError | None:
            try:
                decoder.decode(trial)
            except msgspec.ValidationError as exc:
                return field_error(exc, path)
            return None

        return [name_map_keys(error, bytes(data), path, again)]
    if isinstance(payload, ProgramRegistered | ProgramAmended):
        errors = terms_errors(payload.terms, f"{path}.terms")
        if errors:
            return errors
    return payload


def decode_payload(type_: str, data: bytes) -> Payload:
    """Decode one event's data strictly, as if posted; raise InvalidEvents with `$.data` paths."""
    if type_ not in _PAYLOADS:
        message = f"unknown event type {shorten(type_, 80)!r}"
        raise InvalidEvents([FieldError(path="$.type", message=message)])
    try:
        result = _payload_or_errors(type_, data, "$.data")
    except _UNREADABLE as exc:
        raise _malformed(exc, data) from None
    errors = duplicate_key_errors(data, "$.data")
    if isinstance(result, list) or errors:
        raise InvalidEvents(errors + (result if isinstance(result, list) else []))
    return result


def _posted(envelope: Envelope, prefix: str, errors: list[FieldError]) -> Posted | None:
    if envelope.type not in _PAYLOADS:
        known = ", ".join(EVENT_TYPES)
        message = f"unknown event type {shorten(envelope.type, 80)!r}; known types: {known}"
        errors.append(FieldError(path=f"{prefix}.type", message=message))
        return None
    result = _payload_or_errors(envelope.type, envelope.data, f"{prefix}.data")
    if isinstance(result, list):
        errors.extend(result)
        return None
    return Posted(envelope=envelope, payload=result, event_id=str(envelope.event_id))


def decode_posted(body: bytes) -> PostedBatch:
    """Decode a posted body (one envelope or an array of 1..1000) or raise why not; a key
    repeated in any object of it is refused, whatever the decoder would have kept."""
    try:
        batch = _decode_posted(body)
    except InvalidEvents as exc:
        _require_json(body)
        repeated = duplicate_key_errors(body)
        if repeated:
            raise InvalidEvents(repeated + exc.errors) from None
        raise
    except _UNREADABLE as exc:
        raise _malformed(exc, body) from None
    refused = duplicate_key_errors(body) + posted_time_errors(body)
    if refused:
        raise InvalidEvents(refused)
    return batch


def _decode_posted(body: bytes) -> PostedBatch:
    try:
        top = _TOP.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidEvents([field_error(exc)]) from None
    errors: list[FieldError] = []
    if isinstance(top, Envelope):
        one = _posted(top, "$", errors)
        if one is None:
            raise InvalidEvents(errors)
        return PostedBatch(events=[one], is_array=False)
    if not top:
        raise InvalidEvents([FieldError(path="$", message="an array of events may not be empty")])
    if len(top) > MAX_BATCH:
        raise TooManyEvents(
            f"at most {MAX_BATCH} events per post, got {len(top)}: post them in several"
        )
    events = _decode_array(top, errors)
    if errors:
        raise InvalidEvents(errors)
    return PostedBatch(events=events, is_array=True)


def _decode_array(items: list[msgspec.Raw], errors: list[FieldError]) -> list[Posted]:
    events: list[Posted] = []
    first_index: dict[uuid.UUID, int] = {}
    for i, raw in enumerate(items):
        prefix = f"$[{i}]"
        try:
            envelope = _ENVELOPE.decode(raw)
        except msgspec.ValidationError as exc:
            errors.append(field_error(exc, prefix))
            continue
        earlier = first_index.setdefault(envelope.event_id, i)
        if earlier != i:
            message = f"event_id already used by $[{earlier}] in this post"
            errors.append(FieldError(path=f"{prefix}.event_id", message=message))
            continue
        one = _posted(envelope, prefix, errors)
        if one is not None:
            events.append(one)
    return events


def posted_fingerprint(posted: Posted) -> bytes:
    """Return a SHA-256 digest of what the poster sent, to tell identical reposts apart."""
    env = posted.envelope
    # The canonical re-encoding of the decoded data ignores key order and whitespace
    # but keeps every value; occurred_at keeps the offset the poster sent.
    canonical = CANONICAL.encode(
        [posted.event_id, env.type, env.occurred_at, env.expected_version, posted.payload]
    )
    return hashlib.sha256(canonical).digest()


def store_posted(
    posted: Posted,
    *,
    derived: Derived,
    stream_version: int,
    recorded_at: datetime.datetime,
    actor: Actor,
) -> StoredEvent:
    """Build the StoredEvent for an accepted post; occurred_at defaults to recorded_at."""
    env = posted.envelope
    return StoredEvent(
        event_id=posted.event_id,
        type=env.type,
        occurred_at=env.occurred_at if env.occurred_at is not None else recorded_at,
        expected_version=env.expected_version,
        data=posted.payload,
        derived=derived,
        stream_id=posted.stream_id,
        stream_version=stream_version,
        recorded_at=recorded_at,
        actor=actor,
    )
