"""Rebuilding the as-of read model gives the same books of every day as the live one."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from ledger.audit.as_of import state_as_of
from ledger.audit.as_of_rows import checkpoint
from ledger.audit.state import OutOfBusinessOrder
from ledger.http.as_of import as_of_cut
from ledger.runtime import Runtime
from ledger.store.reads import head_position
from projections.rebuild import rebuild
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner
from tests.integration.business.scenario import SECOND_SME, post_dated, seed_dated, year
from tests.unit.rules.world import BANK, FUND, GUAR, issued, key

IDS = [
    ("guarantee_id", "G-1"),
    ("guarantee_id", "G-2"),
    ("claim_id", "C-1"),
    ("sme_id", SECOND_SME),
    ("institution_id", GUAR),
    ("institution_id", BANK),
    ("institution_id", FUND),
    ("program_id", "national-sme-tech-2024"),
]
DAYS = [dt.date(2025, 1, 1), dt.date(2025, 6, 30), dt.date(2025, 12, 31), dt.date(2026, 3, 31)]


async def _caught_up(dsn: str) -> None:
    runner = ProjectionRunner(dsn, batch_size=5)
    try:
        await runner.catch_up()
    finally:
        await runner.close()


async def _books(runtime: Runtime) -> dict[tuple[Any, ...], Any]:
    out = {}
    async with runtime.pool.acquire() as conn:
        for day in DAYS:
            deadline = asyncio.get_running_loop().time() + 5
            cut = await as_of_cut(conn, None, day, None, deadline, await head_position(conn))
            for name, ident in IDS:
                out[day, name, ident] = await state_as_of(conn, cut, name, ident)
    return out


async def test_a_rebuild_answers_every_day_as_before(runtime: Runtime, db_dsn: str) -> None:
    await seed_dated(runtime)
    await post_dated(runtime, year())
    await _caught_up(db_dsn)
    before = await _books(runtime)
    async with runtime.pool.acquire() as conn:
        generation, _ = await checkpoint(conn)
        await rebuild(conn, [PROJECTIONS["as_of"]], batch_size=4)
        assert (await checkpoint(conn))[0] == generation + 1
    assert await _books(runtime) == before
    assert before[DAYS[-1], "claim_id", "C-1"] is not None


async def test_events_before_their_program_in_business_time_are_refused_by_name(
    runtime: Runtime, db_dsn: str
) -> None:
    await seed_dated(runtime)
    await post_dated(runtime, [(issued("G-9"), key(GUAR), "2024-12-01T10:00:00+08:00")])
    await _caught_up(db_dsn)
    async with runtime.pool.acquire() as conn:
        deadline = asyncio.get_running_loop().time() + 5
        cut = await as_of_cut(
            conn, None, dt.date(2024, 12, 31), None, deadline, await head_position(conn)
        )
        with pytest.raises(OutOfBusinessOrder, match="later business_date"):
            await state_as_of(conn, cut, "program_id", "national-sme-tech-2024")
