"""Constrained value types shared by every event: money, shares, ids, names, roles."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

MAX_FEN = 10**15
"""Largest amount of money (in fen) the ledger accepts in one field."""

Fen = Annotated[int, Meta(gt=0, le=MAX_FEN, description="Money in fen, > 0")]
"""A positive amount of money in integer fen (1 yuan = 100 fen)."""

FenOrZero = Annotated[int, Meta(ge=0, le=MAX_FEN, description="Money in fen, >= 0")]
"""An amount of money in integer fen that may be zero."""

Bp = Annotated[int, Meta(ge=0, le=10000, description="Basis points, 0..10000")]
"""A rate or share in integer basis points (10000 bp = 100%)."""

PositiveBp = Annotated[int, Meta(ge=1, le=10000, description="Basis points, 1..10000")]
"""A limit in basis points that must leave some room: 1..10000."""

LeverageX100 = Annotated[
    int, Meta(ge=100, le=10000, description="Times net assets x 100: 100 (1x) .. 10000 (100x)")
]
"""A leverage limit in hundredths of a multiple (1000 = 10 times); 1x to 100x is sane."""

Year = Annotated[int, Meta(ge=2000, le=2200, description="Calendar year, 2000..2200")]
"""A calendar year of business dates."""


def exact(pattern: str) -> str:
    """`pattern` as published (JSON Schema's, ECMA-262), written for Python's `re` to
    mean the same: its final `$` as `\\Z`.

    msgspec matches a field's pattern with `re.search`, where `$` also matches just
    before a final newline: "G-1\\n" passed `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$` and
    would have been stored as an id of its own, beside "G-1". In ECMA-262 `$` is the
    end of the text, so the published pattern stays the one the API states, and
    `published_pattern` turns this form back into it.
    """
    if not pattern.endswith("$") or pattern.endswith("\\$"):
        raise ValueError(f"pattern {pattern!r} does not end with an anchor")
    return pattern[:-1] + "\\Z"


def published_pattern(pattern: str) -> str:
    """The pattern as published for one made by `exact` (others are returned unchanged)."""
    return pattern[:-2] + "$" if pattern.endswith("\\Z") else pattern


IDENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""Pattern of institution, program, guarantee and claim identifiers, as published."""

IDENT = re.compile(exact(IDENT_PATTERN))
"""IDENT_PATTERN matched whole, for ids read from paths and queries."""

Ident = Annotated[str, Meta(pattern=exact(IDENT_PATTERN), description="Identifier")]
"""An institution, program, guarantee or claim identifier."""

SME_ID_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
"""Shape of a unified social credit code; the check character is verified separately."""

SmeId = Annotated[
    str,
    Meta(
        description="Unified social credit code (GB 32100-2015)",
        extra_json_schema={"pattern": SME_ID_PATTERN},
    ),
]
"""An SME's 18-character unified social credit code, checked whole by every holder.

The pattern is published in the schema but not matched on decode: each struct
holding an SmeId checks it with credit_code_problem, which checks all the
pattern does and the check character, and says which part is wrong. Matching
it as well cost a fifth of decoding an SME's event (replay decodes millions).
"""

# One line, no control characters (C0, DEL and C1, NEL among them) and no Unicode line
# or paragraph separator, not blank: names end up in reports and logs.
_LINE_PATTERN = r"^(?=.*\S)[^\x00-\x1f\x7f-\x9f\u2028\u2029]+$"
# Free text may span lines (LF, CR, tab), but NUL and other control characters are refused.
_TEXT_PATTERN = r"^(?=[\s\S]*\S)[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+$"

Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=exact(_LINE_PATTERN))]
"""A display name: one non-blank line of at most 200 characters."""

Reference = Annotated[str, Meta(min_length=1, max_length=200, pattern=exact(_LINE_PATTERN))]
"""A document reference (e.g. a recommendation letter number): one non-blank line."""

Reason = Annotated[str, Meta(min_length=1, max_length=1000, pattern=exact(_TEXT_PATTERN))]
"""A free-text reason of at most 1000 characters, not blank."""

Role = Literal["bank", "guarantor", "reguarantor", "national_fund", "compensation_pool"]
"""A role that bears a share of losses on a guarantee."""

ROLES: tuple[Role, ...] = ("bank", "guarantor", "reguarantor", "national_fund", "compensation_pool")
"""All loss-bearing roles, in the order the loss-sharing rules use."""

InstitutionKind = Literal[
    "bank", "guarantor", "reguarantor", "national_fund", "compensation_pool", "reviewer"
]
"""What kind of institution a registered institution is."""

INSTITUTION_KINDS: tuple[InstitutionKind, ...] = (*ROLES, "reviewer")
"""All institution kinds."""

Category = Literal[
    "little_giant",
    "specialised_sme",
    "national_project",
    "high_tech",
    "innovation_points",
    "tech_sme",
    "innovative_sme",
    "recommended",
]
"""An eligibility category an SME can hold."""

CATEGORIES: tuple[Category, ...] = (
    "little_giant",
    "specialised_sme",
    "national_project",
    "high_tech",
    "innovation_points",
    "tech_sme",
    "innovative_sme",
    "recommended",
)
"""All eligibility categories, in a fixed order (used to break ties)."""


class RoleAmounts(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One integer per loss-bearing role: basis-point shares or amounts in fen."""

    bank: int = 0
    guarantor: int = 0
    reguarantor: int = 0
    national_fund: int = 0
    compensation_pool: int = 0

    def get(self, role: Role) -> int:
        """Return the value for one role."""
        return int(getattr(self, role))

    def total(self) -> int:
        """Return the sum over all roles."""
        return (
            self.bank
            + self.guarantor
            + self.reguarantor
            + self.national_fund
            + (self.compensation_pool)
        )

    @classmethod
    def from_mapping(cls, values: Mapping[Role, int]) -> RoleAmounts:
        """Build from a role -> value mapping; roles not named get 0."""
        unknown = set(values) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        return cls(**{role: int(values.get(role, 0)) for role in ROLES})

    def as_dict(self) -> dict[Role, int]:
        """Return a role -> value dict with every role, in role order."""
        # Spelled out: issuance, claims and several read models call this on every event.
        return {
            "bank": self.bank,
            "guarantor": self.guarantor,
            "reguarantor": self.reguarantor,
            "national_fund": self.national_fund,
            "compensation_pool": self.compensation_pool,
        }

    def replace(self, role: Role, value: int) -> RoleAmounts:
        """Return a copy with one role's value changed."""
        return msgspec.structs.replace(self, **{role: value})


SharesBp = RoleAmounts
"""Basis-point shares per role (the five sum to 10000 on a guarantee)."""
