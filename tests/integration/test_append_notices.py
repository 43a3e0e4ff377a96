"""Who is told of an append: the active sealer, by a notice only when it is another instance's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from ledger.runtime import Runtime, running
from ledger.store.sealer import APPENDED_CHANNEL
from tests.factory import ADMIN, institution, posted


@pytest.fixture
async def notices(db_dsn: str) -> AsyncIterator[list[str]]:
    """Every notice on the append channel from here on (a listener of its own)."""
    heard: list[str] = []
    conn = await asyncpg.connect(db_dsn)
    await conn.add_listener(APPENDED_CHANNEL, lambda *args: heard.append(args[2]))
    try:
        yield heard
    finally:
        await conn.close()


async def _active(runtime: Runtime, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not runtime.sealer.active:
        assert time.monotonic() < deadline, "the sealer never took the lock"
        await asyncio.sleep(0.01)


async def test_a_post_sends_no_notice_when_this_instance_seals(
    runtime: Runtime, notices: list[str]
) -> None:
    await _active(runtime)
    result = await runtime.ledger.post(posted(institution("B-1")), ADMIN)
    assert result.receipts[0].position == 1
    await asyncio.sleep(0.2)  # a notice, had one been sent, arrives well within this
    assert notices == []


async def test_a_post_tells_the_sealer_of_another_instance(db_dsn: str, notices: list[str]) -> None:
    async with running(db_dsn) as sealing:
        await _active(sealing)
        async with running(db_dsn) as standing_by:
            assert not standing_by.sealer.active
            result = await asyncio.wait_for(
                standing_by.ledger.post(posted(institution("B-1")), ADMIN), timeout=5.0
            )
            assert result.receipts[0].position == 1
    deadline = time.monotonic() + 2.0
    while not notices and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert notices == [APPENDED_CHANNEL]
