"""Program terms: caps, bounds, loss shares and the parties a program names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from events.errors import FieldError
from events.types import CATEGORIES, Bp, Category, Fen, FenOrZero, Ident, PositiveBp, RoleAmounts

CappedRole = Literal["national_fund", "reguarantor", "compensation_pool"]
"""A role whose total losses in a program can be capped."""

ProgramRole = Literal["national_fund", "compensation_pool"]
"""A role filled program-wide (named in the terms rather than on each guarantee)."""

PROGRAM_ROLES: tuple[ProgramRole, ...] = ("national_fund", "compensation_pool")
"""Program-wide roles, in role order."""

Months = Annotated[int, Meta(ge=1, le=600)]
"""A loan term in whole months, 1..600."""


class TermsShares(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base loss shares in bp; the guarantor's share is what the others leave of 10000."""

    bank: Bp = 0
    reguarantor: Bp = 0
    national_fund: Bp = 0
    compensation_pool: Bp = 0


LimitRole = Literal["guarantor", "bank"]
"""The role whose compensation rate a program limits."""


class CompensationRateLimit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The compensation-rate circuit breaker of a program."""

    role: LimitRole
    warning_bp: PositiveBp
    suspend_bp: PositiveBp
    min_discharged: FenOrZero = 0


class ProgramTerms(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """The terms of a guarantee program: bounds, eligibility, shares, caps and parties."""

    per_sme_cap: Fen
    loan_amount_min: Fen
    loan_amount_max: Fen
    max_term_months: Months
    fee_rate_bp_max: Bp
    eligible_categories: list[Category] = []
    shares_bp: TermsShares = TermsShares()
    national_fund_bp_by_category: dict[Category, Bp] | None = None
    compensation_caps_bp: dict[CappedRole, Bp] = {}
    parties: dict[ProgramRole, Ident] = {}
    compensation_rate_limit: CompensationRateLimit | None = None

    def guarantor_bp(self, fund_bp: int | None = None) -> int:
        """Return the guarantor's share in bp, given the fund's share (default: shares_bp)."""
        s = self.shares_bp
        fund = s.national_fund if fund_bp is None else fund_bp
        return 10000 - s.bank - s.reguarantor - fund - s.compensation_pool

    def fund_can_share(self) -> bool:
        """Tell whether the national fund can get a share > 0 on some guarantee."""
        table = self.national_fund_bp_by_category or {}
        return self.shares_bp.national_fund > 0 or any(v > 0 for v in table.values())


def fund_category(terms: ProgramTerms, categories: Iterable[Category]) -> Category | None:
    """Return the SME category that sets the fund's share, or None when none does."""
    table = terms.national_fund_bp_by_category
    if table is None:
        return None
    held = set(categories)
    best: Category | None = None
    # Walking CATEGORIES (not the caller's order) makes ties resolve the same way every time.
    for category in CATEGORIES:
        if category not in held or category not in table:
            continue
        if best is None or table[category] > table[best]:
            best = category
    return best


def fund_bp_for(terms: ProgramTerms, categories: Iterable[Category]) -> int:
    """Return the national fund's share in bp for an SME holding these valid categories."""
    category = fund_category(terms, categories)
    if category is None or terms.national_fund_bp_by_category is None:
        return terms.shares_bp.national_fund
    return terms.national_fund_bp_by_category[category]


def shares_for(terms: ProgramTerms, categories: Iterable[Category]) -> RoleAmounts:
    """Return the five loss shares in bp (summing to 10000) for an SME's valid categories."""
    fund = fund_bp_for(terms, categories)
    s = terms.shares_bp
    return RoleAmounts(
        bank=s.bank,
        guarantor=terms.guarantor_bp(fund),
        reguarantor=s.reguarantor,
        national_fund=fund,
        compensation_pool=s.compensation_pool,
    )


def terms_errors(terms: ProgramTerms, path: str = "$.data.terms") -> list[FieldError]:
    """Return every semantic problem with a program's terms, each with its JSON path."""
    errors: list[FieldError] = []

    def add(where: str, message: str) -> None:
        errors.append(FieldError(path=f"{path}.{where}", message=message))

    guarantor = terms.guarantor_bp()
    if guarantor < 0:
        add(
            "shares_bp",
            f"bank + reguarantor + national_fund + compensation_pool is {10000 - guarantor} bp,"
            f" over 10000: the guarantor's share would be {guarantor} bp",
        )
    if terms.loan_amount_min > terms.loan_amount_max:
        add(
            "loan_amount_min",
            f"loan_amount_min ({terms.loan_amount_min}) exceeds"
            f" loan_amount_max ({terms.loan_amount_max})",
        )
    seen: set[Category] = set()
    for i, category in enumerate(terms.eligible_categories):
        if category in seen:
            add(f"eligible_categories[{i}]", f"category {category!r} is listed twice")
        seen.add(category)
    for category, fund in (terms.national_fund_bp_by_category or {}).items():
        left = terms.guarantor_bp(fund)
        if left < 0:
            add(
                f"national_fund_bp_by_category.{category}",
                f"a national_fund share of {fund} bp with the other shares in shares_bp"
                f" would give the guarantor {left} bp",
            )
    can_share: dict[ProgramRole, bool] = {
        "national_fund": terms.fund_can_share(),
        "compensation_pool": terms.shares_bp.compensation_pool > 0,
    }
    for role in PROGRAM_ROLES:
        if can_share[role] and role not in terms.parties:
            add(f"parties.{role}", f"{role} can get a share, so parties must name its institution")
    limit = terms.compensation_rate_limit
    if limit is not None and limit.warning_bp > limit.suspend_bp:
        add(
            "compensation_rate_limit.warning_bp",
            f"warning_bp ({limit.warning_bp}) must be at most suspend_bp ({limit.suspend_bp})",
        )
    return errors
