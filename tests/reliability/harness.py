"""Real `ledger serve` processes for fault tests, and a poster that records acknowledgements."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import aiohttp
import asyncpg

from bench.payloads import GUARANTOR_ID, setup_events, sme_registered
from bench.service import LEDGER, create_key, free_port, post


class Service:
    """One `ledger serve` process on a database; can be killed and started again."""

    def __init__(self, dsn: str, log: Path) -> None:
        self.dsn = dsn
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._out: BinaryIO | None = None

    def start(self, ready_within: float = 60.0) -> None:
        """Start the process and wait until /readyz answers 200."""
        env = {**os.environ, "LEDGER_DATABASE_URL": self.dsn, "LEDGER_LOG_FORMAT": "json"}
        self._close_log()
        self._out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [*LEDGER, "serve", "--port", str(self.port)],
            env=env,
            stdout=self._out,
            stderr=self._out,
        )
        deadline = time.monotonic() + ready_within
        while not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"ledger serve exited: {self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("ledger serve did not become ready")
            time.sleep(0.1)

    def ready(self) -> bool:
        """Whether /readyz answers 200."""
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close_log()


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
