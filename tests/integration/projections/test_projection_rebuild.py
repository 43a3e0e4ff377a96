"""Rebuilding projections from position 1 while the ledger is in use."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from ledger.runtime import Runtime, connect
from projections import queries
from projections.base import Projection
from projections.rebuild import Progress, ProgressCallback, RebuildBusy, rebuild
from projections.rebuild_writers import Connect
from projections.registry import PROJECTIONS, select
from projections.runner import REBUILD_LOCK_SPACE, ProjectionRunner, lock_key
from tests.integration.projections.support import (
    assert_tables_equal_fold,
    post_steps,
    wait_caught_up,
)
from tests.unit.projections.scenario import NATIONAL, SMALL, SMES, PureLedger, issue, setup_steps


async def _generations(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT name, generation FROM projection_checkpoints")
    return {r["name"]: r["generation"] for r in rows}


async def _rebuild(
    dsn: str,
    projections: list[Projection],
    batch_size: int,
    progress: ProgressCallback | None = None,
    writers: Connect | None = None,
) -> int:
    """`rebuild` on a connection of its own, closed afterwards."""
    conn = await connect(dsn)
    try:
        return await rebuild(
            conn, projections, batch_size=batch_size, progress=progress, connect=writers
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("beside", [False, True], ids=["one connection", "one per read model"])
async def test_a_rebuild_while_posts_continue_ends_equal_to_the_live_model(
    runtime: Runtime, beside: bool
) -> None:
    ledger = PureLedger().post_all(setup_steps())
    await post_steps(runtime, ledger.accepted)
    seen_missing: list[int] = []
    stop = asyncio.Event()

    async def poster() -> None:
        for n in range(1, 1000):
            step = issue(f"G-{n}", SMALL, SMES[n % 3], 1000 + n, bank=n, guarantor=n)
            await post_steps(runtime, [step])
            if stop.is_set():
                return

    async def reader() -> None:
        # Readers must never see the model empty or half-built while it is swapped.
        while not stop.is_set():
            if await queries.program_summary(runtime.pool, NATIONAL) is None:
                seen_missing.append(1)
            await asyncio.sleep(0)

    runner = ProjectionRunner(runtime.dsn, batch_size=50, idle_wait=0.05)
    follow = asyncio.create_task(runner.run())
    await wait_caught_up(runtime.pool)
    tasks = [asyncio.create_task(poster()), asyncio.create_task(reader())]
    await asyncio.sleep(0.3)
    reached = await _rebuild(
        runtime.dsn,
        select(None),
        batch_size=20,
        writers=(lambda: connect(runtime.dsn)) if beside else None,
    )
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*tasks)
    await wait_caught_up(runtime.pool)
    follow.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await follow
    assert reached > len(ledger.accepted)
    assert seen_missing == []
    assert await _generations(runtime.pool) == dict.fromkeys(PROJECTIONS, 2)
    await assert_tables_equal_fold(runtime.pool)
    for proj in PROJECTIONS.values():
        old = await runtime.pool.fetchval(
            f"SELECT count(*) FROM {proj.table} WHERE generation <> 2"
        )
        assert old == 0, proj.name


async def test_rebuilding_one_projection_swaps_only_it_and_reports_progress(
    runtime: Runtime,
) -> None:
    await post_steps(runtime, PureLedger().post_all(setup_steps()).accepted)
    seen: list[Progress] = []
    reached = await _rebuild(runtime.dsn, select(["programs"]), batch_size=5, progress=seen.append)
    generations = await _generations(runtime.pool)
    assert generations["programs"] == 2
    assert {name: g for name, g in generations.items() if name != "programs"} == dict.fromkeys(
        set(PROJECTIONS) - {"programs"}, 1
    )
    assert seen[-1].position == reached
    assert [p.position for p in seen] == sorted(p.position for p in seen)
    assert (await queries.projection_positions(runtime.pool))["programs"] == reached
    body = await queries.program_summary(runtime.pool, SMALL)
    assert body is not None
    assert body["position"] == reached


async def test_a_second_rebuild_of_the_same_projection_is_refused_while_one_runs(
    runtime: Runtime,
) -> None:
    first = await connect(runtime.dsn)
    second = await connect(runtime.dsn)
    try:
        await first.execute(
            "SELECT pg_advisory_lock($1::int, $2::int)", REBUILD_LOCK_SPACE, lock_key("claims")
        )
        with pytest.raises(RebuildBusy):
            await rebuild(second, select(["claims"]))
    finally:
        await first.close()
        await second.close()


async def test_read_models_written_beside_each_other_report_the_position_all_have_reached(
    runtime: Runtime,
) -> None:
    await post_steps(runtime, PureLedger().post_all(setup_steps()).accepted)
    seen: list[Progress] = []
    reached = await _rebuild(
        runtime.dsn,
        select(None),
        batch_size=3,
        progress=seen.append,
        writers=lambda: connect(runtime.dsn),
    )
    positions = [p.position for p in seen]
    assert len(positions) > 3
    assert positions == sorted(positions)
    assert positions[-1] == reached
    assert await _generations(runtime.pool) == dict.fromkeys(PROJECTIONS, 2)


async def test_a_read_model_that_cannot_be_written_stops_the_rebuild_and_nothing_is_swapped(
    runtime: Runtime,
) -> None:
    await post_steps(runtime, PureLedger().post_all(setup_steps()).accepted)
    opened: list[asyncpg.Connection] = []

    async def read_only() -> asyncpg.Connection:
        # Read models with nothing to write in this log never notice; the others fail.
        # Read-only from its start: with a statement between opening and handing it over,
        # a task cancelled there (another read model failed first) never got its writer
        # back to close.
        writer = await connect(runtime.dsn, default_transaction_read_only="on")
        opened.append(writer)
        return writer

    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await _rebuild(runtime.dsn, select(None), batch_size=3, writers=read_only)
    assert await _generations(runtime.pool) == dict.fromkeys(PROJECTIONS, 1)
    assert opened
    assert all(writer.is_closed() for writer in opened)
