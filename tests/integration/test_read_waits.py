"""How a read waits for the read models: look, hurry the runner once, look again."""

from __future__ import annotations

import asyncio

import asyncpg

from ledger.http.readmodels import polled
from projections.runner import READ_WAITING_CHANNEL


async def _hurried(owner_conn: asyncpg.Connection, dsn: str, looks: int, *, hurry: bool) -> int:
    """How many times the runner was told a read waits, by a read done at its `looks`-th look."""
    told: list[str] = []
    listener = await asyncpg.connect(dsn)
    try:
        await listener.add_listener(READ_WAITING_CHANNEL, lambda *a: told.append(a[-1]))
        seen = 0

        async def look() -> tuple[bool, int]:
            nonlocal seen
            seen += 1
            return seen >= looks, seen

        # A deadline far away: the look itself ends the wait, at its `looks`-th time.
        deadline = asyncio.get_running_loop().time() + 3600
        done, last = await polled(owner_conn, look, deadline, hurry=hurry, every=0.001)
        assert (done, last) == (True, looks)
        await asyncio.sleep(0.2)  # notifications arrive asynchronously
        return len(told)
    finally:
        await listener.close()


async def test_a_read_that_waits_tells_the_runner_once(
    owner_conn: asyncpg.Connection, db_dsn: str
) -> None:
    assert await _hurried(owner_conn, db_dsn, 5, hurry=True) == 1


async def test_a_read_that_need_not_hurry_never_tells_the_runner(
    owner_conn: asyncpg.Connection, db_dsn: str
) -> None:
    assert await _hurried(owner_conn, db_dsn, 5, hurry=False) == 0


async def test_a_read_done_at_its_first_look_neither_waits_nor_tells_the_runner(
    owner_conn: asyncpg.Connection, db_dsn: str
) -> None:
    assert await _hurried(owner_conn, db_dsn, 1, hurry=True) == 0


async def test_past_its_deadline_a_read_has_what_it_saw_last_and_is_not_done(
    owner_conn: asyncpg.Connection,
) -> None:
    seen = 0

    async def look() -> tuple[bool, int]:
        nonlocal seen
        seen += 1
        return False, seen

    deadline = asyncio.get_running_loop().time() + 0.05
    done, last = await polled(owner_conn, look, deadline, every=0.01)
    assert not done
    assert last == seen >= 2
