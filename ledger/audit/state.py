"""A single read model as it stood at a position: GET /v1/audit/state."""

from __future__ import annotations

from typing import Any

import asyncpg

from ledger.audit.replay import replay
from projections import claims, guarantees, sme_exposure
from projections.registry import PROJECTIONS


async def state_at(
    conn: asyncpg.Connection,
    position: int,
    *,
    guarantee_id: str | None = None,
    claim_id: str | None = None,
    sme_id: str | None = None,
) -> dict[str, Any] | None:
    """The body of that read model after the event at `position`, or None if it did not exist.

    Give exactly one of the ids (ValueError otherwise). Only the projection
    asked for is folded, from position 1, out of verified history: raises
    `ReplayError` when `position` lies beyond the head or the chain is broken.
    """
    chosen = [(k, v) for k, v in (("g", guarantee_id), ("c", claim_id), ("s", sme_id)) if v]
    if len(chosen) != 1:
        raise ValueError("give exactly one of guarantee_id, claim_id, sme_id")
    if position < 0:
        raise ValueError("position must be 0 or more")
    kind, key = chosen[0]
    name = {"g": guarantees.NAME, "c": claims.NAME, "s": sme_exposure.NAME}[kind]
    fold = await replay(conn, to_position=position, projections=[PROJECTIONS[name]])
    if kind == "g":
        return fold.guarantee_summary(key)
    if kind == "c":
        return fold.claim_shares(key)
    return fold.sme_exposure(key)
