"""What the client sends and gets back, as msgspec Structs (unknown fields are ignored, so a
newer ledger that adds fields does not break an older client)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec


def new_event_id() -> str:
    """A fresh event id (a random UUID)."""
    return str(uuid.uuid4())


class NewEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An event to post. Its event_id is fixed when it is made, so reposting it is safe."""

    event_id: str = msgspec.field(default_factory=new_event_id)
    type: str
    occurred_at: dt.datetime | None = None
    expected_version: int | None = None
    """The stream version last seen; 0 means the stream must not exist yet."""
    data: Any
    """The event's data: a dict, or a Struct from the `events` vocabulary."""

    @classmethod
    def of(cls, data: msgspec.Struct, **envelope: Any) -> NewEvent:
        """An event of a vocabulary Struct (its class names the type in `TYPE`)."""
        return cls(type=type(data).TYPE, data=data, **envelope)  # type: ignore[attr-defined]


class Receipt(msgspec.Struct, kw_only=True):
    """Where an accepted event was stored."""

    event_id: str
    stream_id: str
    stream_version: int
    position: int
    recorded_at: dt.datetime


class Actor(msgspec.Struct, kw_only=True):
    """The role (and institution) of the key that posted an event."""

    role: str
    institution_id: str | None = None


class Event(msgspec.Struct, kw_only=True):
    """A stored event as the feed gives it: envelope, data, stream place, position, hash."""

    event_id: str
    type: str
    occurred_at: dt.datetime
    expected_version: int | None = None
    data: dict[str, Any]
    derived: dict[str, Any] | None = None
    stream_id: str
    stream_version: int
    recorded_at: dt.datetime
    actor: Actor
    position: int
    hash: str


class EventPage(msgspec.Struct, kw_only=True):
    """Events in position order; the next page is after `next_after`."""

    events: list[Event]
    next_after: int
