"""The read models' answers as sent: one msgspec type per body, which the handlers encode
and the OpenAPI document describes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from events.terms import ProgramTerms
from events.types import Category, InstitutionKind, Role
from ledger.rules.state import ClaimStatus, GuaranteeStatus


class ReadBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A read-model answer: the handlers convert the read model's body into it and encode
    it, so a field the read model gains without the type fails loudly instead of going
    out undocumented. Field order is the order on the wire."""


class ExposureLine(ReadBody):
    """An SME's standing in one program."""

    program_id: str
    balance: int
    cap: int
    headroom: int
    active_guarantees: int


class SmeExposure(ReadBody):
    """Per program: in-force balance against the per-SME cap."""

    sme_id: str
    position: int
    programs: list[ExposureLine]


class BalancePoint(ReadBody):
    """The in-force balance right after an event that moved it."""

    position: int
    type: str
    occurred_at: str
    """The event's occurred_at (RFC 3339), as posted or defaulted."""
    business_date: dt.date
    """The event's business date (its date in Asia/Shanghai)."""
    balance: int


class GuaranteeSummary(ReadBody):
    """A guarantee's state, balance, fixed shares, parties and claims."""

    guarantee_id: str
    program_id: str
    sme_id: str
    status: GuaranteeStatus
    loan_amount: int
    balance: int
    shares_bp: dict[Role, int]
    """Each role's share of a loss, fixed when the guarantee was issued."""
    claims: list[str]
    version: int
    """The guarantee stream's version."""
    parties: dict[Role, str]
    """The institution standing in each role."""
    bank_id: str
    guarantor_id: str
    reguarantor_id: str | None
    fee_rate_bp: int
    start_date: dt.date
    maturity_date: dt.date
    default_date: dt.date | None
    open_claim: str | None
    category: Category | None
    """The SME category that set the national fund's share, if one did."""
    program_version: int
    """The version of the program's terms the guarantee was issued under."""
    last_position: int
    """The position of the guarantee's latest event."""
    position: int
    balance_history: list[BalancePoint] = msgspec.field(default_factory=list)
    """The balance after each event that moved it, in log order (the console plots it)."""


class RoleShare(ReadBody):
    """What one role bore of a claim and got back."""

    institution_id: str | None
    borne: int
    recovered: int
    net: int


class ClaimTotals(ReadBody):
    """A claim's amounts over every role."""

    borne: int
    recovered: int
    net: int


class ClaimShares(ReadBody):
    """A claim: amounts and per role borne, recovered, net."""

    claim_id: str
    guarantee_id: str
    status: ClaimStatus
    amount: int
    approved_amount: int
    """0 until the claim is approved."""
    recovered: int
    reason: str | None
    """Why the claim was rejected, if it was."""
    position: int
    shares: dict[Role, RoleShare]
    totals: ClaimTotals
    parties: dict[Role, str]


class RateLimitStanding(ReadBody):
    """The compensation-rate breaker of an institution in a program, this year."""

    year: int
    rate_bp: int | None
    discharged: int
    warning_bp: int
    suspend_bp: int
    status: Literal["ok", "warning", "suspended", "reinstated"]


class PositionLine(ReadBody, omit_defaults=True):
    """An institution's standing in one program (`limit` only where the program has one)."""

    program_id: str
    roles: list[Role]
    guaranteed_volume: int
    in_force_balance: int
    borne: int
    recovered: int
    net_loss: int
    cap: int | None
    cap_used: int
    limit: RateLimitStanding | None = None
    """Only for programs with a compensation_rate_limit."""


class InstitutionPosition(ReadBody):
    """Per program: volume, balance, losses borne and recovered, cap use."""

    institution_id: str
    kind: InstitutionKind
    name: str
    position: int
    programs: list[PositionLine]


class CurrentTerms(ProgramTerms, frozen=True, omit_defaults=False):
    """A program's terms as they stand, every field given (defaults included)."""


class RoleCap(ReadBody):
    """A capped role's compensation cap in a program, and how much of it is used."""

    rate_bp: int
    volume: int
    cap: int
    used: int


class ProgramTotals(ReadBody):
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
    volume_by_role: dict[Role, int]
    """Per role, the loans of the guarantees where it has a share."""
    borne: dict[Role, int]
    recovered: dict[Role, int]
    net_loss: dict[Role, int]
    caps: dict[Role, RoleCap]


class ProgramSummary(ReadBody):
    """A program's current terms and version, and its totals."""

    program_id: str
    name: str
    version: int
    terms: CurrentTerms
    position: int
    totals: ProgramTotals
