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
