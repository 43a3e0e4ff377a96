"""Copies of one Consumer deployed together: each starts, and each event is applied once."""

from __future__ import annotations

import asyncio

import asyncpg

from ledger import client as lc
from ledger.client.consumer import Consumer
from tests.e2e.test_client_gateway import Upstream, _client, upstream

__all__ = ["upstream"]
COPIES = 4


async def test_copies_started_together_each_start_and_apply_every_event_once(
    upstream: tuple[Upstream, str], db_dsn: str
) -> None:
    _, url = upstream
    pools = [await asyncpg.create_pool(db_dsn, min_size=1, max_size=2) for _ in range(COPIES)]
    try:
        await pools[0].execute("CREATE TABLE applied (position bigint PRIMARY KEY)")

        async def handler(conn: asyncpg.Connection, event: lc.Event) -> None:
            await conn.execute("INSERT INTO applied VALUES ($1)", event.position)

        async def copy(pool: asyncpg.Pool, table: str) -> int:
            async with _client(url) as client:
                consumer = Consumer(client, pool, "books", handler, table=table, wait=0.1)
                return await consumer.run(until=3)

        # A position table of its own each round: each round's copies create it at once.
        for round_ in range(3):
            table = f"positions_{round_}"
            ended = await asyncio.gather(*(copy(pool, table) for pool in pools))
            assert ended == [3] * COPIES
            applied = await pools[0].fetch("DELETE FROM applied RETURNING position")
            assert sorted(r["position"] for r in applied) == [1, 2, 3]
    finally:
        for pool in pools:
            await pool.close()


async def test_a_consumer_not_yet_set_up_is_at_position_zero(
    upstream: tuple[Upstream, str], db_dsn: str
) -> None:
    _, url = upstream

    async def handler(conn: asyncpg.Connection, event: lc.Event) -> None:
        return None

    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=1)
    try:
        async with _client(url) as client:
            assert await Consumer(client, pool, "books", handler).position() == 0
    finally:
        await pool.close()
