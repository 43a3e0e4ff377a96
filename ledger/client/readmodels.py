"""The read models' answers as the client gets them: every field the ledger sends.

Unknown fields are ignored, so a newer ledger that adds fields does not break an older
client. Money is integer fen, shares basis points, roles and statuses plain strings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


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


class BalancePoint(msgspec.Struct, kw_only=True):
    """A guarantee's in-force balance right after an event that moved it."""

    position: int
    type: str
    occurred_at: dt.datetime
    business_date: dt.date
    balance: int


class GuaranteeSummary(msgspec.Struct, kw_only=True):
    """A guarantee's state, balance, fixed shares, parties and claims."""

    guarantee_id: str
    program_id: str
    sme_id: str
    status: str
    loan_amount: int
    balance: int
    shares_bp: dict[str, int]
    claims: list[str]
    version: int
    parties: dict[str, str]
    """The institution standing in each role."""
    bank_id: str
    guarantor_id: str
    reguarantor_id: str | None
    fee_rate_bp: int
    start_date: dt.date
    maturity_date: dt.date
    default_date: dt.date | None
    open_claim: str | None
    category: str | None
    program_version: int
    """The version of the program's terms the guarantee was issued under."""
    last_position: int
    """The position of the guarantee's latest event."""
    position: int
    balance_history: list[BalancePoint] = msgspec.field(default_factory=list)


class RoleShare(msgspec.Struct, kw_only=True):
    """What one role bore of a claim and got back."""

    institution_id: str | None
    borne: int
    recovered: int
    net: int


class ClaimTotals(msgspec.Struct, kw_only=True):
    """A claim's amounts over every role."""

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
    reason: str | None
    """Why the claim was rejected, if it was."""
    position: int
    shares: dict[str, RoleShare]
    totals: ClaimTotals
    parties: dict[str, str]


class RateLimitStanding(msgspec.Struct, kw_only=True):
    """An institution's compensation-rate breaker in a program, this year."""

    year: int
    rate_bp: int | None
    discharged: int
    warning_bp: int
    suspend_bp: int
    status: str
    """ok, warning, suspended or reinstated."""


class PositionLine(msgspec.Struct, kw_only=True):
    """An institution's standing in one program."""

    program_id: str
    roles: list[str]
    guaranteed_volume: int
    in_force_balance: int
    borne: int
    recovered: int
    net_loss: int
    cap: int | None
    cap_used: int
    limit: RateLimitStanding | None = None
    """Only for programs with a compensation-rate limit."""


class InstitutionPosition(msgspec.Struct, kw_only=True):
    """Per program: volume, balance, losses borne and recovered, cap use."""

    institution_id: str
    kind: str
    name: str
    position: int
    programs: list[PositionLine]


class RoleCap(msgspec.Struct, kw_only=True):
    """A capped role's compensation cap in a program, and how much of it is used."""

    rate_bp: int
    volume: int
    cap: int
    used: int


class ProgramTotals(msgspec.Struct, kw_only=True):
    """A program's running totals."""

    guarantees_issued: int
    active_guarantees: int
    guaranteed_volume: int
    in_force_balance: int
    claims_filed: int
    claims_approved: int
    claims_rejected: int
    compensations_paid: int
    compensated_amount: int
    recovered_amount: int
    volume_by_role: dict[str, int]
    borne: dict[str, int]
    recovered: dict[str, int]
    net_loss: dict[str, int]
    caps: dict[str, RoleCap]


class ProgramSummary(msgspec.Struct, kw_only=True):
    """A program's current terms (every field, defaults included), version and totals."""

    program_id: str
    name: str
    version: int
    terms: dict[str, Any]
    position: int
    totals: ProgramTotals
