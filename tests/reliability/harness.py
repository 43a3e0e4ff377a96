"""Real `ledger serve` processes for fault tests, and a poster that records acknowledgements."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg

from bench.payloads import GUARANTOR_ID, setup_events, sme_registered
from bench.service import Service, create_key, post


def prepare(dsn: str, service: Service) -> str:
    """Register the benchmark program and institutions; return a guarantor key."""
    admin = create_key(dsn, "--role", "admin")
    post(service.url, admin, setup_events())
    return create_key(dsn, "--institution", GUARANTOR_ID)


@dataclass
class Tally:
    """What the posters sent and what the ledger acknowledged."""

    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0

    def count(self, status: int) -> None:
        """Count one answer by status."""
        self.statuses[status] = self.statuses.get(status, 0) + 1


async def post_until(
    urls: list[str], key: str, tally: Tally, stop: asyncio.Event, *, workers: int, start: int
) -> None:
    """Post sme.registered events from `workers` tasks until `stop` is set, round robin."""
    counter = iter(range(start, start + 10_000_000))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=15)

    async def worker(session: aiohttp.ClientSession, w: int) -> None:
        while not stop.is_set():
            n = next(counter)
            event = sme_registered(n)
            tally.sent[event["event_id"]] = event
            try:
                async with session.post(
                    urls[n % len(urls)] + "/v1/events", json=event, headers=headers
                ) as r:
                    await r.read()
                    tally.count(r.status)
                    if r.status in (200, 201):
                        tally.acknowledged.add(event["event_id"])
            except (aiohttp.ClientError, TimeoutError):
                tally.transport_errors += 1
                await asyncio.sleep(0.05)

    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(worker(session, w) for w in range(workers)))


async def stored_event_ids(dsn: str) -> list[str]:
    """Every event id in the events table (duplicates would show twice)."""
    conn = await asyncpg.connect(dsn)
    try:
        return [str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM events")]
    finally:
        await conn.close()


async def wait_sealed(dsn: str, within: float) -> int:
    """Wait up to `within` seconds until every event has a position; return how many lack one."""
    deadline = time.monotonic() + within
    while (left := await unsealed(dsn)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return left


async def unsealed(dsn: str) -> int:
    """Events without a position yet."""
    conn = await asyncpg.connect(dsn)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM events e WHERE NOT EXISTS "
                "(SELECT 1 FROM event_log l WHERE l.seq = e.seq)"
            )
        )
    finally:
        await conn.close()


FIGURES: list[str] = []
"""Every fault test's figures, printed again in pytest's summary (see conftest.py)."""


def report(name: str, **figures: Any) -> None:
    """Record and print the figures of a fault test so they show in the test output."""
    text = f"[{name}] " + ", ".join(f"{k}={v}" for k, v in figures.items())
    FIGURES.append(text)
    print("\n" + text, file=sys.stderr)


def new_id() -> str:
    """A fresh event id."""
    return str(uuid.uuid4())
