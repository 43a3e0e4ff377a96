"""The long polls' shared LISTEN connection: one that cannot listen is closed, not kept."""

from __future__ import annotations

import contextlib

import asyncpg

from ledger.http.follow import SealedLog


async def test_a_listener_that_cannot_listen_is_closed_and_the_wait_reads_without_it(
    db_dsn: str, owner_pool: asyncpg.Pool
) -> None:
    opened: list[asyncpg.Connection] = []

    async def in_a_failed_transaction() -> asyncpg.Connection:
        # LISTEN on it fails: the transaction it is in has failed.
        conn = await asyncpg.connect(db_dsn)
        opened.append(conn)
        await conn.execute("BEGIN")
        with contextlib.suppress(asyncpg.PostgresError):
            await conn.execute("SELECT 1 / 0")
        return conn

    sealed = SealedLog(owner_pool, in_a_failed_transaction)
    try:
        assert await sealed.batch(0, 10, wait=0.1) == []
    finally:
        await sealed.close()
    assert len(opened) == 1
    assert opened[0].is_closed()
