"""The position waiter hears other instances' seals, and not its own sealer's."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from ledger.runtime import connect
from ledger.store.positions import PositionWaiter


async def _until(waiter: PositionWaiter, listening: bool) -> None:
    async with asyncio.timeout(5):
        while await waiter.listening() != listening:
            await asyncio.sleep(0.02)


async def test_the_waiter_listens_for_seals_only_while_another_instance_seals(
    db_dsn: str,
) -> None:
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    waiter = PositionWaiter(pool)
    try:
        await waiter.start(lambda: connect(db_dsn))
        assert await waiter.listening()
        waiter.sealing_here(12345)  # this instance's sealer became the active one
        await _until(waiter, listening=False)
        waiter.sealing_here(None)  # and stopped being it
        await _until(waiter, listening=True)
    finally:
        await waiter.close()
        await pool.close()


async def test_the_waiter_listens_again_once_its_connection_is_ended(db_dsn: str) -> None:
    """As after a database restart, or a session ended by an operator: without listening,
    each post would wait for the quarter-second poll to learn its position."""
    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    waiter = PositionWaiter(pool)
    running = asyncio.create_task(waiter.run())
    try:
        await waiter.start(lambda: connect(db_dsn))
        first = await _listener_pid(pool)
        assert await pool.fetchval("SELECT pg_terminate_backend($1)", first)
        await _until(waiter, listening=True)
        again = await _listener_pid(pool)
        assert again not in (None, first)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await waiter.close()
        await pool.close()


async def _listener_pid(pool: asyncpg.Pool) -> int | None:
    """The backend that listens for seal notices (the service's connections are named)."""
    pid: int | None = await pool.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'ledger' AND pid <> pg_backend_pid()"
    )
    return pid
