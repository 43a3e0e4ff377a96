"""Loss-share arithmetic: who bears what of a compensation and gets what of a recovery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Role = Literal["bank", "guarantor", "reguarantor", "national_fund", "compensation_pool"]

# The order is part of the contract: ties in the largest-remainder rule go to
# the earlier role, so reordering this tuple would change who gets a fen.
ROLES: Final[tuple[Role, ...]] = (
    "bank",
    "guarantor",
    "reguarantor",
    "national_fund",
    "compensation_pool",
)

# Dividing a loss (docs/rules.md): caps are applied in this order. Overflow only ever
# moves to the guarantor or the bank, which are never capped, so one role's
# overflow cannot change another's; the order is kept as written all the same.
CAPPED_ROLES: Final[tuple[Role, ...]] = ("national_fund", "reguarantor", "compensation_pool")

BP_DENOMINATOR: Final = 10_000


def _check_keys(name: str, mapping: Mapping[Role, object]) -> None:
    # Callers convert from msgspec structs and JSON; a misspelt role must fail
    # loudly rather than silently count as zero.
    unknown = set(mapping) - set(ROLES)
    if unknown:
        raise ValueError(f"{name}: unknown roles {sorted(unknown)}")


def _check_amount(name: str, value: object) -> int:
    # bool is an int subclass and float would break exact fen arithmetic.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _amounts(name: str, mapping: Mapping[Role, int]) -> dict[Role, int]:
    """Validate a per-role mapping and fill absent roles with 0."""
    _check_keys(name, mapping)
    return {role: _check_amount(f"{name}[{role}]", mapping.get(role, 0)) for role in ROLES}


def largest_remainder(total: int, weights: Mapping[Role, int], denominator: int) -> dict[Role, int]:
    """Split total by weights/denominator, leftover units to the largest remainders."""
    _check_amount("total", total)
    w = _amounts("weights", weights)
    if denominator <= 0:
        raise ValueError(f"denominator must be > 0, got {denominator}")
    # With any other sum the leftover is not bounded by the number of roles,
    # so "one unit each" would be meaningless; refuse instead of guessing.
    if sum(w.values()) != denominator:
        raise ValueError(f"weights sum to {sum(w.values())}, expected {denominator}")

    parts: dict[Role, int] = {}
    remainders: dict[Role, int] = {}
    for role in ROLES:
        parts[role], remainders[role] = divmod(total * w[role], denominator)
    leftover = total - sum(parts.values())
    # sorted() is stable, so equal remainders keep ROLES order. Zero-weight
    # roles are excluded explicitly: they must never be handed a unit.
    ranked = sorted((r for r in ROLES if w[r] > 0), key=lambda r: -remainders[r])
    for role in ranked[:leftover]:
        parts[role] += 1
    assert sum(parts.values()) == total
    return parts


def split_loss(
    loss: int,
    shares_bp: Mapping[Role, int],
    headroom: Mapping[Role, int | None],
) -> dict[Role, int]:
    """Split an approved loss across roles by shares, then apply cap headroom."""
    shares = _amounts("shares_bp", shares_bp)
    if any(bp > BP_DENOMINATOR for bp in shares.values()):
        raise ValueError(f"shares_bp must each be within 0..{BP_DENOMINATOR}")
    _check_keys("headroom", headroom)
    uncappable: tuple[Role, ...] = ("bank", "guarantor")
    for role in uncappable:
        # Overflow lands on these two, so a cap on them could not be honoured.
        if headroom.get(role) is not None:
            raise ValueError(f"headroom: {role} cannot be capped")

    parts = largest_remainder(loss, shares, BP_DENOMINATOR)

    # A pool-and-bank programme has no guarantor of its own; its overflow
    # stays with the lending bank rather than landing on a role with no share.
    absorber: Role = "guarantor" if shares["guarantor"] > 0 else "bank"
    for role in CAPPED_ROLES:
        room = headroom.get(role)
        if room is None:  # absent or None: the programme does not cap this role
            continue
        if isinstance(room, bool) or not isinstance(room, int):
            raise TypeError(f"headroom[{role}] must be int or None")
        # Headroom is cap minus borne; recoveries never restore it, and a cap
        # amended below what was already borne leaves no room rather than less.
        room = max(room, 0)
        excess = parts[role] - room
        if excess > 0:
            parts[role] = room
            parts[absorber] += excess

    assert sum(parts.values()) == loss, "loss shares must sum exactly to the loss"
    return parts


def compensation_cap(rate_bp: int, volume: int) -> int:
    """Return the most a capped role may bear in a programme: floor(rate_bp * volume / 10000)."""
    _check_amount("volume", volume)
    if _check_amount("rate_bp", rate_bp) > BP_DENOMINATOR:
        raise ValueError(f"rate_bp must be within 0..{BP_DENOMINATOR}, got {rate_bp}")
    return rate_bp * volume // BP_DENOMINATOR


def split_recovery(
    amount: int, borne: Mapping[Role, int], recovered: Mapping[Role, int]
) -> dict[Role, int]:
    """Split a recovery in proportion to what each role bore and has not yet recovered."""
    b = _amounts("borne", borne)
    r = _amounts("recovered", recovered)
    outstanding: dict[Role, int] = {}
    for role in ROLES:
        if r[role] > b[role]:
            raise ValueError(f"{role} has recovered {r[role]} but bore only {b[role]}")
        outstanding[role] = b[role] - r[role]
    total = sum(outstanding.values())
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be int")
    if amount <= 0:
        raise ValueError(f"recovery amount must be > 0, got {amount}")
    if amount > total:
        raise ValueError(f"recovery {amount} exceeds the {total} still outstanding")
    # Each part is at most ceil(amount * o / total) <= o because amount <= total,
    # so no role can be handed back more than it still has outstanding.
    return largest_remainder(amount, outstanding, total)
