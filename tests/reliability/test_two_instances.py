"""Two service processes on one database: cap, stream versions and idempotency hold exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.payloads import BANK_ID, guarantee_issued, sme_id, sme_registered
from bench.service import create_key, post
from tests.reliability.harness import Service, prepare, report, stored_event_ids


@pytest.fixture
def two_services(db_dsn: str, tmp_path: Path) -> Iterator[tuple[Service, Service]]:
    """Two `ledger serve` processes sharing the test database and one signing key file."""
    first = Service(db_dsn, tmp_path / "first.log")
    first.start()
    # Chosen once the first listens, so the two can never be given one free port.
    second = Service(db_dsn, tmp_path / "second.log")
    try:
        second.start()
    except BaseException:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


async def _post_all(
    urls: list[str], key: str, bodies: list[Any]
) -> list[tuple[int, dict[str, Any]]]:
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession() as session:

        async def one(i: int, body: Any) -> tuple[int, dict[str, Any]]:
            async with session.post(
                urls[i % len(urls)] + "/v1/events", json=body, headers=headers
            ) as r:
                return r.status, await r.json(content_type=None)

        return await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))


async def test_per_sme_cap_holds_across_two_instances(
    two_services: tuple[Service, Service], db_dsn: str
) -> None:
    """Cap 30 000 000 yuan; 40 concurrent 1 000 000 yuan guarantees for one SME: 30 stored."""
    first, second = two_services
    guarantor = await asyncio.to_thread(prepare, db_dsn, first)
    await asyncio.to_thread(post, first.url, guarantor, sme_registered(7))
    bodies = [guarantee_issued(7, f"cap{i}") for i in range(40)]
    answers = await _post_all([first.url, second.url], guarantor, bodies)
    statuses = [s for s, _ in answers]
    report("two-instance cap", accepted=statuses.count(201), refused=statuses.count(409))
    assert statuses.count(201) == 30
    assert [b["type"] for s, b in answers if s == 409] == ["/problems/cap-exceeded"] * 10
    stored = await stored_event_ids(db_dsn)
    assert len([e for e in stored if e in {b["event_id"] for b in bodies}]) == 30


async def test_stream_versions_hold_across_two_instances(
    two_services: tuple[Service, Service], db_dsn: str
) -> None:
    """Twenty concurrent repayments all expecting version 1: exactly one is stored."""
    first, second = two_services
    guarantor = await asyncio.to_thread(prepare, db_dsn, first)
    bank = await asyncio.to_thread(create_key, db_dsn, "--institution", BANK_ID)
    await asyncio.to_thread(post, first.url, guarantor, sme_registered(8))
    await asyncio.to_thread(post, first.url, guarantor, guarantee_issued(8, "v"))
    bodies = [
        {
            "event_id": f"00000000-0000-4000-8000-{i:012d}",
            "type": "loan.repaid",
            "expected_version": 1,
            "data": {"guarantee_id": "G-v-8", "amount": 1_000},
        }
        for i in range(20)
    ]
    answers = await _post_all([first.url, second.url], bank, bodies)
    statuses = sorted(s for s, _ in answers)
    assert statuses == [201] + [409] * 19
    conflicts = [b for s, b in answers if s == 409]
    assert {b["type"] for b in conflicts} == {"/problems/version-conflict"}
    assert {b["current_version"] for b in conflicts} == {2}


async def test_one_event_posted_twenty_times_to_two_instances_is_stored_once(
    two_services: tuple[Service, Service], db_dsn: str
) -> None:
    first, second = two_services
    guarantor = await asyncio.to_thread(prepare, db_dsn, first)
    event = sme_registered(9)
    answers = await _post_all([first.url, second.url], guarantor, [event] * 20)
    assert sorted(s for s, _ in answers) == [200] * 19 + [201]
    assert len({b["position"] for _, b in answers}) == 1
    stored = await stored_event_ids(db_dsn)
    assert stored.count(event["event_id"]) == 1
    assert sme_id(9)
