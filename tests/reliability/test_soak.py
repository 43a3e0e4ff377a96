"""`make soak`: repeated crashes under load, longer than the suite can afford."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.reliability.harness import (
    Service,
    Tally,
    post_until,
    prepare,
    report,
    stored_event_ids,
    wait_sealed,
)


@pytest.mark.slow
async def test_ten_sigkills_under_load_lose_and_double_nothing(db_dsn: str, tmp_path: Path) -> None:
    service = Service(db_dsn, tmp_path / "service.log")
    service.start()
    tally = Tally()
    try:
        key = await asyncio.to_thread(prepare, db_dsn, service)
        for round_ in range(10):
            stop = asyncio.Event()
            load = asyncio.create_task(
                post_until([service.url], key, tally, stop, workers=16, start=100_000 * round_)
            )
            await asyncio.sleep(3.0)
            service.kill()
            stop.set()
            await load
            service.start()
        assert await wait_sealed(db_dsn, 30) == 0
        stored = await stored_event_ids(db_dsn)
        lost = tally.acknowledged - set(stored)
        report(
            "soak",
            rounds=10,
            posts=len(tally.sent),
            acknowledged=len(tally.acknowledged),
            stored=len(stored),
            lost=len(lost),
        )
        assert lost == set()
        assert len(stored) == len(set(stored))
    finally:
        service.stop()
