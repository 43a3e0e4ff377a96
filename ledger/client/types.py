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


class ExposureLine(msgspec.Struct, kw_only=True):
    """An SME's standing in one program."""

    program_id: str
    balance: int
    cap: int
    headroom: int
    active_guarantees: int


class SmeExposure(msgspec.Struct, kw_only=True):
    """Per program: in-force balance against the per-SME cap."""

    sme_id: str
    position: int
    programs: list[ExposureLine]


class GuaranteeSummary(msgspec.Struct, kw_only=True):
    """A guarantee's state, balance, fixed shares and claims."""

    guarantee_id: str
    program_id: str
    sme_id: str
    status: str
    loan_amount: int
    balance: int
    shares_bp: dict[str, int]
    claims: list[str]
    version: int
    position: int


class RoleShare(msgspec.Struct, kw_only=True):
    """What one role bore of a claim and got back."""

    institution_id: str | None
    borne: int
    recovered: int
    net: int


class ClaimShares(msgspec.Struct, kw_only=True):
    """A claim: amounts and per role borne, recovered, net."""

    claim_id: str
    guarantee_id: str
    status: str
    amount: int
    approved_amount: int | None
    recovered: int
    position: int
    shares: dict[str, RoleShare]


class PositionLine(msgspec.Struct, kw_only=True):
    """An institution's standing in one program."""

    program_id: str
    guaranteed_volume: int
    in_force_balance: int
    borne: int
    recovered: int
    net_loss: int
    cap: int | None
    cap_used: int


class InstitutionPosition(msgspec.Struct, kw_only=True):
    """Per program: volume, balance, losses borne and recovered, cap use."""

    institution_id: str
    kind: str
    position: int
    programs: list[PositionLine]


class ProgramSummary(msgspec.Struct, kw_only=True):
    """A program's current terms (as posted) and version."""

    program_id: str
    version: int
    terms: dict[str, Any]
    position: int
