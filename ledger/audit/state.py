"""A single read model as it stood at a position, or as of a business date: GET /v1/audit/state."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from ledger.audit.replay import ReplayError, replay
from projections import claims, guarantees, institutions, programs, sme_exposure
from projections.fold import Fold
from projections.registry import PROJECTIONS

STATE_IDS = ("guarantee_id", "claim_id", "sme_id", "institution_id", "program_id")
"""The ids that name a read model, in the order of the query parameters."""

_PROJECTION = {
    "guarantee_id": guarantees.NAME,
    "claim_id": claims.NAME,
    "sme_id": sme_exposure.NAME,
    "institution_id": institutions.NAME,
    "program_id": programs.NAME,
}


class OutOfBusinessOrder(ReplayError):
    """Events up to a business date name something registered only later in business time."""


def _body(fold: Fold, name: str, key: str, year: int | None) -> dict[str, Any] | None:
    match name:
        case "guarantee_id":
            return fold.guarantee_summary(key)
        case "claim_id":
            return fold.claim_shares(key)
        case "sme_id":
            return fold.sme_exposure(key)
        case "institution_id":
            return fold.institution_position(key, year)
    return fold.program_summary(key)


async def state_at(
    conn: asyncpg.Connection,
    position: int | None = None,
    *,
    business_date: dt.date | None = None,
    known_at: dt.datetime | None = None,
    **ids: str | None,
) -> dict[str, Any] | None:
    """The body of that read model after the event at `position`, or as of the end of
    `business_date` as known at `known_at` (default now); None if it did not exist.

    Give exactly one of STATE_IDS (ValueError otherwise). Only the projection asked
    for is folded, from position 1, out of verified history: raises `ReplayError`
    when `position` lies beyond the head or the chain is broken, `OutOfBusinessOrder`
    when the events dated up to `business_date` cannot be folded alone.
    """
    chosen = [(k, v) for k, v in ids.items() if v]
    if len(chosen) != 1 or chosen[0][0] not in _PROJECTION:
        raise ValueError("give exactly one of " + ", ".join(STATE_IDS))
    if position is not None and position < 0:
        raise ValueError("position must be 0 or more")
    name, key = chosen[0]
    assert key is not None
    projection = [PROJECTIONS[_PROJECTION[name]]]
    try:
        fold = await replay(
            conn,
            to_position=position,
            as_of=known_at,
            business_date=business_date,
            projections=projection,
        )
        # As of a business date, that day's year's breakers; at a position, the current year's.
        year = None if business_date is None else business_date.year
        return _body(fold, name, key, year)
    except LookupError as exc:
        # An event dated up to that day names a program, SME or institution whose
        # registration is dated later: the books of that day cannot hold it.
        raise OutOfBusinessOrder(
            f"the events dated up to {business_date} refer to something registered later "
            f"in business time ({exc}); choose a later business_date"
        ) from None
