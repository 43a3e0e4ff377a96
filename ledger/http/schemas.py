"""Bodies the HTTP API answers with, as msgspec Structs: encoded from, and documented by."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

from events.stored import LogEntry
from events.terms import ProgramTerms
from events.types import Role
from ledger.posting import Receipt

_encode = msgspec.json.Encoder().encode


def json_response_body(value: Any) -> bytes:
    """JSON bytes of a Struct, list or builtins."""
    return _encode(value)


class ReceiptBody(msgspec.Struct, kw_only=True):
    """Where an accepted event was stored."""

    event_id: str
    stream_id: str
    stream_version: int
    position: int
    recorded_at: dt.datetime

    @classmethod
    def of(cls, receipt: Receipt) -> ReceiptBody:
        """The body of one receipt."""
        return cls(
            event_id=receipt.event_id,
            stream_id=receipt.stream_id,
            stream_version=receipt.stream_version,
            position=receipt.position,
            recorded_at=receipt.recorded_at,
        )


class EventPage(msgspec.Struct, kw_only=True):
    """Events in position order; ask again with after=next_after for the next ones."""

    events: list[LogEntry]
    next_after: int
    """The last position in `events`, or the `after` asked for when there are none."""


class StreamPage(msgspec.Struct, kw_only=True):
    """One stream's events in version order, from the version asked for."""

    stream_id: str
    version: int
    """The stream's current version."""
    events: list[LogEntry]


class Health(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Liveness or readiness."""

    status: str
    detail: str | None = None
    pending_migrations: list[int] | None = None


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
    shares_bp: dict[Role, int]
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
    shares: dict[Role, RoleShare]


class RateLimitStanding(msgspec.Struct, kw_only=True):
    """The compensation-rate breaker of an institution in a program, this year (SPEC 10)."""

    year: int
    rate_bp: int | None
    discharged: int
    warning_bp: int
    suspend_bp: int
    status: Literal["ok", "warning", "suspended", "reinstated"]


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
    limit: RateLimitStanding | None = None
    """Only for programs with a compensation_rate_limit."""


class InstitutionPosition(msgspec.Struct, kw_only=True):
    """Per program: volume, balance, losses borne and recovered, cap use."""

    institution_id: str
    kind: str
    position: int
    programs: list[PositionLine]


class ProgramSummary(msgspec.Struct, kw_only=True):
    """A program's current terms and version (and totals, as the read model keeps them)."""

    program_id: str
    version: int
    terms: ProgramTerms
    position: int


class ChainCheck(msgspec.Struct, kw_only=True):
    """The result of recomputing the hash chain."""

    ok: bool
    verified_through: int
    head_hash: str
    first_bad_position: int | None
    problem: str | None = None
    """What was wrong at the first bad position: changed, removed, reordered."""
    reason: str | None = None


class AuditState(msgspec.Struct, kw_only=True):
    """A read model as it stood at a past position."""

    position: int
