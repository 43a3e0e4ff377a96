"""The runner gathers seals before applying them, but not while a read waits for them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from ledger.http.readmodels import primary_reflects
from ledger.runtime import Runtime
from ledger.store.reads import head_position
from ledger.store.sealer import SEALED_CHANNEL
from projections import queries
from projections.runner import ProjectionRunner
from tests.integration.projections.support import post_steps
from tests.unit.projections.scenario import NATIONAL, SMES, issue, setup_steps

LONG = 30.0
"""A settle no test waits out: whatever is applied within seconds was not held by it."""


@contextlib.asynccontextmanager
async def _settling(runtime: Runtime) -> AsyncIterator[None]:
    """A runner with a long settle, caught up with the setup steps (hurried by a read)."""
    task = asyncio.create_task(ProjectionRunner(runtime.dsn, settle=LONG, idle_wait=LONG).run())
    try:
        await post_steps(runtime, setup_steps())  # type: ignore[arg-type]
        async with runtime.pool.acquire() as conn:
            await primary_reflects(conn, await head_position(conn), _deadline(10))
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _deadline(seconds: float) -> float:
    return asyncio.get_running_loop().time() + seconds


async def _post_one(runtime: Runtime) -> int:
    """Post one guarantee and let its seal reach the runner; return the new head."""
    await post_steps(runtime, [issue("G-S", NATIONAL, SMES[0], 1_000_000)])  # type: ignore[list-item]
    await asyncio.sleep(0.3)
    head = await head_position(runtime.pool)
    assert await queries.reflected_position(runtime.pool) < head  # held by the settle
    return head


async def test_a_read_waiting_for_its_position_is_answered_without_the_runners_settle(
    runtime: Runtime,
) -> None:
    async with _settling(runtime):
        head = await _post_one(runtime)
        async with runtime.pool.acquire() as conn:
            await primary_reflects(conn, head, _deadline(5))
        assert await queries.reflected_position(runtime.pool) >= head


async def test_the_runner_settling_does_not_hear_further_seals(runtime: Runtime) -> None:
    # Each notice heard woke the runner and its backend, once per post when posts come
    # one at a time; what is sealed meanwhile is read by the batch after the settle.
    async with _settling(runtime):
        head = await _post_one(runtime)
        for i in range(200):
            await runtime.pool.execute("SELECT pg_notify($1, $2)", SEALED_CHANNEL, str(i))
        await asyncio.sleep(0.5)
        assert await queries.reflected_position(runtime.pool) < head
