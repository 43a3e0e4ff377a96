"""Decision state: what the rules know about each institution, program, SME and guarantee."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import msgspec

from events.breaker import Breaker
from events.derived import StatementDerived
from events.terms import CappedRole, ProgramTerms
from events.types import Category, InstitutionKind, Role, RoleAmounts

GuaranteeStatus = Literal[
    "active", "defaulted", "claimed", "approved", "compensated", "closed", "released"
]
ClaimStatus = Literal["filed", "approved", "rejected", "compensated", "closed"]
IN_FORCE: frozenset[str] = frozenset({"active", "defaulted", "claimed", "approved", "compensated"})


class InstitutionState(msgspec.Struct, kw_only=True):
    """A registered institution and its kind."""

    institution_id: str
    kind: InstitutionKind
    name: str


class ProgramState(msgspec.Struct, kw_only=True):
    """A program's current terms, their version, and what each role has borne in it."""

    program_id: str
    name: str
    version: int
    terms: ProgramTerms
    borne: dict[str, int] = msgspec.field(default_factory=dict)


class Eligibility(msgspec.Struct, kw_only=True):
    """A recorded eligibility of an SME for a category, valid over a date range."""

    category: Category
    reference: str
    valid_from: dt.date
    valid_until: dt.date

    def valid_on(self, day: dt.date) -> bool:
        """Whether it is in force on `day`."""
        return self.valid_from <= day <= self.valid_until


class SmeState(msgspec.Struct, kw_only=True):
    """A registered SME and its recorded eligibilities."""

    sme_id: str
    name: str
    eligibilities: list[Eligibility] = msgspec.field(default_factory=list)

    def categories_on(self, day: dt.date) -> list[Category]:
        """Categories valid on `day`, without repeats, in recording order."""
        seen: list[Category] = []
        for e in self.eligibilities:
            if e.valid_on(day) and e.category not in seen:
                seen.append(e.category)
        return seen


class ClaimState(msgspec.Struct, kw_only=True):
    """A claim on a guarantee: amounts, and per role what was borne and recovered."""

    claim_id: str
    status: ClaimStatus
    amount: int
    approved_amount: int | None = None
    borne: RoleAmounts | None = None
    recovered: RoleAmounts = msgspec.field(default_factory=RoleAmounts)

    @property
    def recovered_total(self) -> int:
        """All recovered on this claim so far."""
        return self.recovered.total()


class GuaranteeState(msgspec.Struct, kw_only=True):
    """A guarantee: parties, fixed shares, status, balance and claims."""

    guarantee_id: str
    program_id: str
    program_version: int
    sme_id: str
    bank_id: str
    guarantor_id: str
    reguarantor_id: str | None
    loan_amount: int
    balance: int
    status: GuaranteeStatus
    first_start_date: dt.date
    maturity_date: dt.date
    shares_bp: RoleAmounts
    parties: dict[Role, str]
    claims: dict[str, ClaimState] = msgspec.field(default_factory=dict)
    open_claim: str | None = None
    max_term_months: int | None = None
    """The term limit of the program version it was issued under (None: stored before it was
    kept, use the program's current terms)."""
    compensation_caps_bp: dict[CappedRole, int] | None = None
    """The compensation caps of the program version it was issued under, which its losses are
    split by (None: stored before they were kept, use the program's current terms)."""

    @property
    def in_force_balance(self) -> int:
        """The balance counted against the per-SME cap (0 once released or closed)."""
        return self.balance if self.status in IN_FORCE else 0

    def share_roles(self) -> list[Role]:
        """Roles holding a share > 0 of this guarantee's losses."""
        return [role for role, bp in self.shares_bp.as_dict().items() if bp > 0]


class GuarantorLimits(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A guarantor's latest recorded net assets and limits."""

    institution_id: str
    net_assets: int | None = None
    as_of: dt.date | None = None
    max_leverage_x100: int | None = None
    max_single_sme_bp: int | None = None

    def limits_fen(self) -> tuple[int, int] | None:
        """(leverage limit, single-SME limit) in fen once both the net assets and the
        limits are recorded; None before (the limits do not apply yet)."""
        net, leverage, single = self.net_assets, self.max_leverage_x100, self.max_single_sme_bp
        if net is None or leverage is None or single is None:
            return None
        return net * leverage // 100, net * single // 10000


BreakerKey = tuple[str, str, int]
"""(program_id, institution_id, year) of a compensation-rate breaker."""


def breaker_key_text(key: BreakerKey) -> str:
    """The breaker key as one dirty-row key (identifiers never hold a space)."""
    return f"{key[0]} {key[1]} {key[2]}"


@dataclass
class View:
    """The decision state a post needs: loaded under its locks, updated as events are decided.

    Each map holds the whole truth for the keys a post's footprint names (loaded
    before the first decision) or, when folding the log from the start, for all
    keys; the rules add to the sums (`sme_balance`, `program_volume`,
    `guarantor_in_force`, `guarantor_sme`) as they go. A guarantor's sums are
    loaded only when it has limits: for others they are partial and never read.
    """

    institutions: dict[str, InstitutionState] = field(default_factory=dict)
    programs: dict[str, ProgramState] = field(default_factory=dict)
    smes: dict[str, SmeState] = field(default_factory=dict)
    guarantees: dict[str, GuaranteeState] = field(default_factory=dict)
    claim_owner: dict[str, str] = field(default_factory=dict)
    sme_balance: dict[tuple[str, str], int] = field(default_factory=dict)
    program_volume: dict[tuple[str, str], int] = field(default_factory=dict)
    guarantor_limits: dict[str, GuarantorLimits] = field(default_factory=dict)
    guarantor_in_force: dict[str, int] = field(default_factory=dict)
    guarantor_sme: dict[tuple[str, str], int] = field(default_factory=dict)
    breakers: dict[BreakerKey, Breaker] = field(default_factory=dict)
    statements: dict[tuple[str, dt.date, dt.date], StatementDerived] = field(default_factory=dict)
    """What a statement.filed in this post would fix, by (institution, from, to): computed
    from the read models in the append transaction before the rules decide."""
    dirty: set[tuple[str, str]] = field(default_factory=set)

    def touch(self, kind: str, key: str) -> None:
        """Mark a state row as changed, to be written in the same transaction."""
        self.dirty.add((kind, key))
