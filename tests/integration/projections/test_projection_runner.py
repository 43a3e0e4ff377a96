"""The projection runner on a real PostgreSQL: follows posts, exactly once, one holder at a time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from events.stored import LogEntry
from ledger.runtime import Runtime
from projections import queries
from projections.base import Docs, Projection
from projections.registry import PROJECTIONS
from projections.runner import ProjectionRunner
from tests.integration.projections.support import (
    assert_tables_equal_fold,
    post_steps,
    wait_caught_up,
)
from tests.unit.projections.scenario import (
    NATIONAL,
    SMALL,
    SMES,
    PureLedger,
    issue,
    lifecycle,
    setup_steps,
)


def _scenario() -> list[tuple[dict[str, object], object]]:
    """Setup, three guarantees, one taken through compensation and recovery (decided as built)."""
    ledger = PureLedger().post_all(setup_steps())
    for step in (
        issue("G-1", NATIONAL, SMES[0], 1_000_000_000),
        issue("G-2", SMALL, SMES[1], 900_000),
        issue("G-3", SMALL, SMES[2], 400_000, bank=1, guarantor=1),
    ):
        assert ledger.post(step) is not None
    for step in lifecycle(ledger, "G-1", loss=600_000_000, recover=100_000_000):
        assert ledger.post(step) is not None
    for step in lifecycle(ledger, "G-2", loss=500_000, recover=20_000)[:5]:
        assert ledger.post(step) is not None
    return ledger.accepted  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def _running(runner: ProjectionRunner) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(runner.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_runner_follows_posts_and_reads_answer_the_fold_of_the_log(
    runtime: Runtime,
) -> None:
    async with _running(ProjectionRunner(runtime.dsn, idle_wait=0.2)):
        await post_steps(runtime, _scenario())  # type: ignore[arg-type]
        head = await wait_caught_up(runtime.pool)
    fold = await assert_tables_equal_fold(runtime.pool)
    assert await queries.guarantee_summary(runtime.pool, "G-1") == fold.guarantee_summary("G-1")
    assert await queries.claim_shares(runtime.pool, "C-G-1") == fold.claim_shares("C-G-1")
    assert await queries.sme_exposure(runtime.pool, SMES[0]) == fold.sme_exposure(SMES[0])
    assert await queries.institution_position(runtime.pool, "CN-NFGF") == (
        fold.institution_position("CN-NFGF")
    )
    assert await queries.program_summary(runtime.pool, SMALL) == fold.program_summary(SMALL)
    assert await queries.reflected_position(runtime.pool) == head
    assert await queries.projection_lag(runtime.pool) == 0


async def test_reads_of_unknown_ids_answer_none(runtime: Runtime) -> None:
    runner = ProjectionRunner(runtime.dsn)
    try:
        await runner.catch_up()
    finally:
        await runner.close()
    assert await queries.guarantee_summary(runtime.pool, "G-404") is None
    assert await queries.claim_shares(runtime.pool, "C-404") is None
    assert await queries.sme_exposure(runtime.pool, SMES[0]) is None
    assert await queries.institution_position(runtime.pool, "nobody") is None
    assert await queries.program_summary(runtime.pool, "nothing") is None


async def test_lag_counts_events_sealed_but_not_yet_projected(runtime: Runtime) -> None:
    steps = setup_steps()
    await post_steps(runtime, steps)
    assert await queries.projection_lag(runtime.pool) == len(steps)


def _exploding(proj: Projection, at: int) -> Projection:
    def apply(docs: Docs, entry: LogEntry) -> None:
        if entry.position == at:
            raise RuntimeError(f"projection crashed at {at}")
        proj.apply(docs, entry)

    return dataclasses.replace(proj, apply=apply)


async def test_a_crash_in_the_middle_of_a_batch_neither_loses_nor_doubles_an_event(
    runtime: Runtime,
) -> None:
    await post_steps(runtime, _scenario())  # type: ignore[arg-type]
    crashing = [
        _exploding(proj, 30) if proj.name == "claims" else proj for proj in PROJECTIONS.values()
    ]
    first = ProjectionRunner(runtime.dsn, projections=crashing, batch_size=20)
    with pytest.raises(RuntimeError, match="crashed at 30"):
        await first.catch_up()
    await first.close()
    # The batch 21..40 was rolled back whole: every checkpoint stayed at 20.
    assert set((await queries.projection_positions(runtime.pool)).values()) == {20}
    second = ProjectionRunner(runtime.dsn, batch_size=20)
    try:
        await second.catch_up()
    finally:
        await second.close()
    await assert_tables_equal_fold(runtime.pool)


async def test_a_runner_cancelled_while_following_resumes_where_it_committed(
    runtime: Runtime,
) -> None:
    steps = _scenario()
    runner = ProjectionRunner(runtime.dsn, batch_size=3, idle_wait=0.05)
    async with _running(runner):
        await post_steps(runtime, steps[: len(steps) // 2])  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
    await post_steps(runtime, steps[len(steps) // 2 :])  # type: ignore[arg-type]
    async with _running(ProjectionRunner(runtime.dsn, batch_size=7, idle_wait=0.05)):
        await wait_caught_up(runtime.pool)
    await assert_tables_equal_fold(runtime.pool)


async def test_two_runners_split_the_projections_and_end_equal_to_one(runtime: Runtime) -> None:
    a = ProjectionRunner(runtime.dsn, batch_size=10, idle_wait=0.05)
    b = ProjectionRunner(runtime.dsn, batch_size=10, idle_wait=0.05)
    async with _running(a), _running(b):
        await post_steps(runtime, _scenario())  # type: ignore[arg-type]
        await wait_caught_up(runtime.pool)
        assert set(a.held).isdisjoint(b.held)
        assert set(a.held) | set(b.held) == set(PROJECTIONS)
    await assert_tables_equal_fold(runtime.pool)


async def test_a_standby_runner_takes_over_when_the_holder_dies(runtime: Runtime) -> None:
    steps = _scenario()
    holder = ProjectionRunner(runtime.dsn, idle_wait=0.05)
    await holder.catch_up()
    assert set(holder.held) == set(PROJECTIONS)
    standby = ProjectionRunner(runtime.dsn, idle_wait=0.05, retry_wait=0.1)
    async with _running(standby):
        await asyncio.sleep(0.2)
        assert standby.held == []
        await holder.close()
        await post_steps(runtime, steps)  # type: ignore[arg-type]
        await wait_caught_up(runtime.pool)
        assert set(standby.held) == set(PROJECTIONS)
    await assert_tables_equal_fold(runtime.pool)


async def test_a_runner_that_stops_working_is_ended_and_another_takes_over(
    runtime: Runtime,
) -> None:
    """A holder that caught up, then never looks at the log again (its process hung):
    PostgreSQL ends its idle session, and a standby runner takes every read model."""
    steps = _scenario()
    hung = ProjectionRunner(runtime.dsn, idle_wait=0.05, settle=0.0, idle_limit=1.0)
    await hung.catch_up()
    assert set(hung.held) == set(PROJECTIONS)
    standby = ProjectionRunner(runtime.dsn, idle_wait=0.05, retry_wait=0.1)
    try:
        async with _running(standby):
            await post_steps(runtime, steps)  # type: ignore[arg-type]
            await wait_caught_up(runtime.pool)
            assert set(standby.held) == set(PROJECTIONS)
    finally:
        await hung.close()
    await assert_tables_equal_fold(runtime.pool)


async def test_a_runner_that_holds_nothing_waits_for_the_locks_not_for_seals(
    runtime: Runtime,
) -> None:
    """With every read model held by another, a runner tries the locks once a retry and
    hears no seal: one notice heard left it trying on every turn of its loop for good
    (a soak measured 760 round trips a second from an idle instance's runner)."""
    holder = ProjectionRunner(runtime.dsn, idle_wait=0.05)
    await holder.catch_up()
    idle = ProjectionRunner(runtime.dsn, idle_wait=0.05, retry_wait=0.5)
    tries = 0
    take_locks = idle._take_locks

    async def counted(conn: Any) -> None:
        nonlocal tries
        tries += 1
        await take_locks(conn)

    idle._take_locks = counted  # type: ignore[method-assign]
    try:
        async with _running(idle), _running(holder):
            await post_steps(runtime, _scenario())  # type: ignore[arg-type]
            await wait_caught_up(runtime.pool)
            tries = 0
            await asyncio.sleep(2.0)
            assert idle.held == []
            assert 1 <= tries <= 6
    finally:
        await holder.close()
