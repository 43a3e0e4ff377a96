"""A start of the running ledger that fails part way closes what it had opened."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from ledger.runtime import SERVICE_ROLE, running


@pytest.fixture
async def one_session_dsn(owner_conn: asyncpg.Connection, db_dsn: str) -> AsyncIterator[str]:
    """The test database's DSN as a role that may hold one session at a time: enough for
    the pool's first connection, not for the listener the start opens next."""
    role = f"ledger_t_one_{uuid.uuid4().hex[:8]}"
    await owner_conn.execute(
        f"CREATE ROLE {role} LOGIN PASSWORD 'one' CONNECTION LIMIT 1 IN ROLE {SERVICE_ROLE}"
    )
    parts = urlsplit(db_dsn)
    host = parts.netloc.rpartition("@")[2]
    try:
        yield urlunsplit(parts._replace(netloc=f"{role}:one@{host}"))
    finally:
        await owner_conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role
        )
        await owner_conn.execute(f"DROP ROLE {role}")


async def _sessions_of(conn: asyncpg.Connection, dsn: str) -> int:
    """Sessions of `dsn`'s role still open, once those closing have had a moment to end."""
    role = urlsplit(dsn).username
    for _ in range(50):
        count = int(
            await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE usename = $1", role)
        )
        if count == 0:
            break
        await asyncio.sleep(0.05)
    return count


async def test_a_start_refused_a_connection_part_way_leaves_no_session_open(
    owner_conn: asyncpg.Connection, one_session_dsn: str
) -> None:
    with pytest.raises(asyncpg.TooManyConnectionsError):
        async with running(one_session_dsn, pool_size=1):
            pass
    assert await _sessions_of(owner_conn, one_session_dsn) == 0
