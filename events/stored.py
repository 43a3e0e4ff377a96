"""Events as the ledger stores them: canonical bytes that are hashed, and log entries."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from events.derived import Derived
from events.payloads import PAYLOADS, Payload
from events.readback import READ_BACK

AwareDatetime = Annotated[datetime.datetime, Meta(tz=True)]
"""A timestamp that carries its UTC offset."""

CANONICAL = msgspec.json.Encoder(order="deterministic")
"""The one encoder for bytes that are stored or hashed: struct fields in definition
order, dict keys sorted, no whitespace."""


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who posted an event: the role of the key, and its institution if it has one."""

    role: str
    institution_id: str | None = None


class _EventFields(msgspec.Struct, frozen=True, kw_only=True):
    # The field order here is the order in the stored bytes: never reorder it.
    event_id: str
    type: str
    occurred_at: AwareDatetime
    expected_version: int | None
    data: Payload
    derived: Derived
    stream_id: str
    stream_version: int
    recorded_at: AwareDatetime
    actor: Actor


class StoredEvent(_EventFields, frozen=True, kw_only=True):
    """An accepted event as stored: envelope, data, derived facts, stream place, actor."""


class LogEntry(_EventFields, frozen=True, kw_only=True):
    """A stored event as read back: plus its global position and chain hash (hex)."""

    position: int
    hash: str

    @classmethod
    def of(cls, event: StoredEvent, position: int, hash_hex: str) -> LogEntry:
        """Attach the position and hash the ledger assigned to a stored event."""
        fields = {name: getattr(event, name) for name in event.__struct_fields__}
        return cls(**fields, position=position, hash=hash_hex)


class _StoredWire(msgspec.Struct, frozen=True, kw_only=True):
    # StoredEvent with the data left raw: it is decoded by `type` once that is known.
    event_id: str
    type: str
    occurred_at: AwareDatetime
    expected_version: int | None
    data: msgspec.Raw
    derived: Derived
    stream_id: str
    stream_version: int
    recorded_at: AwareDatetime
    actor: Actor


_WIRE = msgspec.json.Decoder(_StoredWire)
_STORED_PAYLOADS = {name: msgspec.json.Decoder(cls) for name, cls in PAYLOADS.items()}


def encode_stored(event: StoredEvent) -> bytes:
    """Return the canonical bytes of a stored event: exactly what is stored and hashed."""
    for name in ("occurred_at", "recorded_at"):
        value: datetime.datetime = getattr(event, name)
        if value.utcoffset() is None:
            raise ValueError(f"{name} must carry a UTC offset, got {value.isoformat()}")
    if event.type != event.data.TYPE:
        raise ValueError(f"type {event.type!r} does not match data of type {event.data.TYPE!r}")
    return CANONICAL.encode(event)


def _decode_wire(
    raw: bytes, decoders: dict[str, msgspec.json.Decoder[Any]] = _STORED_PAYLOADS
) -> tuple[_StoredWire, Payload]:
    wire = _WIRE.decode(raw)
    decoder = decoders.get(wire.type)
    if decoder is None:
        raise msgspec.ValidationError(f"unknown event type {wire.type!r} - at `$.type`")
    return wire, decoder.decode(wire.data)


def decode_stored(raw: bytes) -> StoredEvent:
    """Decode stored bytes back into a StoredEvent, data decoded by its `type`."""
    wire, data = _decode_wire(raw)
    fields = {name: getattr(wire, name) for name in wire.__struct_fields__}
    fields["data"] = data
    return StoredEvent(**fields)


def read_data(raw: bytes) -> Payload:
    """The data of a stored event, read back as `read_log_entry` reads it: its shape only,
    so data accepted under an input check tightened since still reads as what it was."""
    return _decode_wire(raw, READ_BACK)[1]


class UnreadableEvent(Exception):
    """A stored event's bytes no longer read as an event: changed after it was sealed."""

    def __init__(self, position: int, error: str) -> None:
        super().__init__(
            f"the event stored at position {position} no longer reads as an event ({error}): "
            "it was changed after it was sealed"
        )
        self.position = position


def read_log_entry(raw: bytes, position: int, hash_hex: str) -> LogEntry:
    """Decode a stored event and attach its position and hash, for reads.

    Its data is read back without the input checks it passed when posted (see
    events.readback); `decode_stored`, for events from outside, checks everything.
    UnreadableEvent when the stored bytes are no event.
    """
    # Built field by field: replay reads every event of the log through here.
    try:
        wire, data = _decode_wire(raw, READ_BACK)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UnreadableEvent(position, str(exc)) from None
    return LogEntry(
        event_id=wire.event_id,
        type=wire.type,
        occurred_at=wire.occurred_at,
        expected_version=wire.expected_version,
        data=data,
        derived=wire.derived,
        stream_id=wire.stream_id,
        stream_version=wire.stream_version,
        recorded_at=wire.recorded_at,
        actor=wire.actor,
        position=position,
        hash=hash_hex,
    )


def to_json_dict(entry: LogEntry | StoredEvent) -> dict[str, Any]:
    """Return an event as JSON-ready builtins (for HTTP answers that embed it)."""
    result: dict[str, Any] = msgspec.to_builtins(entry, order="deterministic")
    return result


def encode_log_entries(entries: list[LogEntry]) -> bytes:
    """Encode log entries as one JSON array for an HTTP answer."""
    return CANONICAL.encode(entries)
