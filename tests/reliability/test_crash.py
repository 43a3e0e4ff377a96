"""SIGKILL of the service during concurrent posts: nothing acknowledged is lost or doubled."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.audit.verifying import verified
from tests.reliability.harness import (
    Service,
    Tally,
    post_until,
    prepare,
    report,
    stored_event_ids,
    wait_sealed,
)


async def test_sigkill_during_load_loses_no_acknowledged_event(db_dsn: str, tmp_path: Path) -> None:
    service = Service(db_dsn, tmp_path / "service.log")
    service.start()
    try:
        key = await asyncio.to_thread(prepare, db_dsn, service)
        tally = Tally()
        stop = asyncio.Event()
        load = asyncio.create_task(
            post_until([service.url], key, tally, stop, workers=16, start=1_000)
        )
        await asyncio.sleep(2.0)
        service.kill()
        await asyncio.sleep(0.5)
        stop.set()
        await load
        service.start()
        assert await wait_sealed(db_dsn, 15) == 0
        stored = await stored_event_ids(db_dsn)
        posted = set(tally.sent)
        stored_posts = [e for e in stored if e in posted]
        lost = tally.acknowledged - set(stored_posts)
        report(
            "sigkill",
            posts=len(posted),
            acknowledged=len(tally.acknowledged),
            stored=len(stored_posts),
            stored_unacknowledged=len(set(stored_posts) - tally.acknowledged),
            lost=len(lost),
        )
        assert len(tally.acknowledged) > 50
        assert lost == set()
        assert len(stored) == len(set(stored)), "an event was stored twice"
        chain = await verified(db_dsn)
        assert chain.ok, f"hash chain broken at position {chain.first_bad_position}"
        assert chain.verified_through == len(stored)
    finally:
        service.stop()


@pytest.mark.parametrize("rounds", [3])
async def test_retrying_every_unanswered_post_with_its_event_id_stores_each_once(
    db_dsn: str, tmp_path: Path, rounds: int
) -> None:
    """A client that reposts after a crash (same event_id) never creates a duplicate."""
    service = Service(db_dsn, tmp_path / "service.log")
    service.start()
    try:
        key = await asyncio.to_thread(prepare, db_dsn, service)
        tally = Tally()
        stop = asyncio.Event()
        load = asyncio.create_task(
            post_until([service.url], key, tally, stop, workers=8, start=5_000)
        )
        await asyncio.sleep(1.5)
        service.kill()
        stop.set()
        await load
        service.start()
        import aiohttp

        headers = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession() as session:
            for _ in range(rounds):
                for event in tally.sent.values():
                    async with session.post(
                        service.url + "/v1/events", json=event, headers=headers
                    ) as r:
                        assert r.status in (200, 201), await r.text()
        stored = await stored_event_ids(db_dsn)
        mine = [e for e in stored if e in tally.sent]
        report(
            "retry", posts=len(tally.sent), stored=len(mine), duplicates=len(mine) - len(set(mine))
        )
        assert sorted(mine) == sorted(tally.sent)
    finally:
        service.stop()
