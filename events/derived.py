"""Facts the ledger computes when it accepts an event and stores beside the posted data."""

from __future__ import annotations

import msgspec

from events.types import Category, Role, RoleAmounts

# Stored with the event so read models and replay read them instead of recomputing:
# the rules (or the terms) may change later, the shares fixed back then must not.


class IssuedDerived(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="issued",
):
    """What a guarantee.issued fixed: program version, deciding category, shares, parties."""

    program_version: int
    category: Category | None
    shares_bp: RoleAmounts
    parties: dict[Role, str]
    """Institution id per role with a share > 0; bank and guarantor always."""


class CompensationDerived(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="compensation",
):
    """How a compensation.paid split the approved loss across roles (in fen)."""

    approved_amount: int
    shares: RoleAmounts
    parties: dict[Role, str]


class RecoveryDerived(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="recovery",
):
    """How a recovery.recorded was returned to the roles (in fen)."""

    split: RoleAmounts


class StatementDerived(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    forbid_unknown_fields=True,
    tag_field="kind",
    tag="statement",
):
    """What a statement.filed fixed: the last log position its statement counted, and the
    SHA-256 (hex) of the statement's canonical JSON without known_at."""

    position: int
    digest: str


Derived = IssuedDerived | CompensationDerived | RecoveryDerived | StatementDerived | None
"""Derived facts of a stored event, or None for events that have none."""
