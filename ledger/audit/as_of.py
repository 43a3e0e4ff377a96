"""A read model's body as of a business date, as known at a moment, from the as-of read model.

What GET /v1/audit/state?business_date=D[&known_at=T] answers, without folding the log:
sums of signed rows for institution and program figures, and folds of the few events
indexed for one guarantee, claim, SME, program's terms or institution's registration.
See projections/as_of.py for why the cut (business_date <= D, position <= P) is exact.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import asyncpg

from ledger.audit.as_of_institutions import institution_body
from ledger.audit.as_of_rows import (
    LAST_DAY_SQL,
    REACHED_SQL,
    Cut,
    checkpoint,
    fold_positions,
    later,
    rows,
)
from ledger.audit.as_of_sums import program_totals, totals_of
from projections import as_of, claims, guarantees, programs, sme_exposure
from projections.base import Projection
from projections.fold import Fold


async def _stream(conn: asyncpg.Connection, cut: Cut, projection: Projection, gid: str) -> Fold:
    found = await rows(conn, cut, [f"guarantee:{gid}"])
    return await fold_positions(conn, projection, {r["position"] for r in found})


async def _guarantee(conn: asyncpg.Connection, cut: Cut, gid: str, at: int) -> Any:
    fold = await _stream(conn, cut, guarantees.PROJECTION, gid)
    doc = fold.docs[guarantees.NAME].get(f"guarantee:{gid}")
    return None if doc is None else guarantees.render(doc, at)


async def _claim(conn: asyncpg.Connection, cut: Cut, claim_id: str, at: int) -> Any:
    filed = await rows(conn, cut, [f"claim:{claim_id}"])
    if not filed:
        return None
    fold = await _stream(conn, cut, claims.PROJECTION, filed[0]["ref"])
    doc = fold.docs[claims.NAME].get(claims.claim_key(claim_id))
    return None if doc is None else claims.render(doc, at)


async def _sme(conn: asyncpg.Connection, cut: Cut, sme_id: str, at: int) -> Any:
    own = await rows(conn, cut, [sme_exposure.sme_key(sme_id)])
    links = [r for r in own if r["kind"] == "guarantee"]
    if len(links) == len(own):
        if links:
            raise later(f"SME {sme_id}", cut.day)
        return None
    wanted = {r["program_id"] for r in links}
    found = await rows(conn, cut, ["terms", *(f"guarantee:{r['ref']}" for r in links)])
    positions = {r["position"] for r in own if r["kind"] == "registered"}
    positions |= {r["position"] for r in found if r["entity"] != "terms"}
    positions |= {r["position"] for r in found if r["program_id"] in wanted}
    try:
        fold = await fold_positions(conn, sme_exposure.PROJECTION, positions)
        sme = fold.docs[sme_exposure.NAME].need(sme_exposure.sme_key(sme_id))
        keys = sme_exposure.program_keys(sme)
        found_docs = {key: fold.docs[sme_exposure.NAME].need(key) for key in keys}
    except LookupError as exc:
        raise later(str(exc), cut.day) from None
    return sme_exposure.render(sme, found_docs, at)


async def _program(conn: asyncpg.Connection, cut: Cut, program_id: str, at: int) -> Any:
    terms = [r for r in await rows(conn, cut, ["terms"]) if r["program_id"] == program_id]
    fold = await fold_positions(conn, programs.PROJECTION, {r["position"] for r in terms})
    doc = fold.docs[programs.NAME].get(programs.program_key(program_id))
    totals = (await program_totals(conn, cut, [program_id]))[program_id]
    if doc is None:
        if totals is not None:
            raise later(f"program {program_id}", cut.day)
        return None
    if totals is None:
        totals = totals_of([0] * len(as_of.SUMS_P))
    return programs.render({**doc, "totals": totals}, at)


async def state_as_of(conn: asyncpg.Connection, cut: Cut, name: str, key: str) -> Any:
    """The body of one read model under the cut (None if it did not exist then).

    `name` is one of ledger.audit.state.STATE_IDS; raises OutOfBusinessOrder when the
    events dated up to the day need something of this body registered only later.
    """
    # One snapshot: the daily totals and the rows they are corrected by must agree.
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        generation, _ = await checkpoint(conn)  # a rebuild may have swapped one in
        return await _body(conn, replace(cut, generation=generation), name, key)


async def _body(conn: asyncpg.Connection, cut: Cut, name: str, key: str) -> Any:
    last = None if cut.known_at is not None else await conn.fetchval(LAST_DAY_SQL, cut.position)
    if last is not None and last <= cut.day:
        at = cut.position  # the common case: the last event held is dated up to the day
    else:
        at = int(
            await conn.fetchval(REACHED_SQL, cut.generation, cut.day, cut.position, cut.known_at)
        )
    match name:
        case "guarantee_id":
            return await _guarantee(conn, cut, key, at)
        case "claim_id":
            return await _claim(conn, cut, key, at)
        case "sme_id":
            return await _sme(conn, cut, key, at)
        case "institution_id":
            # The books as of the end of that day: its year's breakers, as the live position
            # shows the current year's.
            return await institution_body(conn, cut, key, at, cut.day.year)
    return await _program(conn, cut, key, at)
