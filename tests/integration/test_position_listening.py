"""The position waiter hears other instances' seals, and not its own sealer's."""

from __future__ import annotations

import asyncio

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
    listener = await connect(db_dsn)
    try:
        waiter = PositionWaiter(pool)
        await waiter.start(listener)
        assert await waiter.listening()
        waiter.sealing_here(12345)  # this instance's sealer became the active one
        await _until(waiter, listening=False)
        waiter.sealing_here(None)  # and stopped being it
        await _until(waiter, listening=True)
    finally:
        await listener.close()
        await pool.close()
