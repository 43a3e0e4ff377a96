"""Every projection the ledger keeps, by name."""

from __future__ import annotations

from projections import (
    as_of,
    claims,
    guarantees,
    institutions,
    movements,
    programs,
    sme_exposure,
)
from projections.base import Projection

PROJECTIONS: dict[str, Projection] = {
    proj.name: proj
    for proj in (
        sme_exposure.PROJECTION,
        guarantees.PROJECTION,
        claims.PROJECTION,
        institutions.PROJECTION,
        programs.PROJECTION,
        movements.PROJECTION,
        as_of.PROJECTION,
    )
}
"""All projections, by name (the names of their checkpoint rows)."""

REPLAYED: dict[str, Projection] = {
    name: proj for name, proj in PROJECTIONS.items() if name != as_of.NAME
}
"""What a replay folds, writes out and compares with the live tables: every read model
but the as-of one, whose rows index the log for as-of reads and hold no state of their
own (its documents are the guarantees' balances, which the others hold too)."""


def select(names: list[str] | None) -> list[Projection]:
    """The projections named (all when None); ValueError for an unknown name."""
    if names is None:
        return list(PROJECTIONS.values())
    unknown = [name for name in names if name not in PROJECTIONS]
    if unknown:
        raise ValueError(
            f"unknown projection {', '.join(unknown)}; known: {', '.join(PROJECTIONS)}"
        )
    return [PROJECTIONS[name] for name in names]
