"""A primary slow to say where its log is, while a standby is in use: statements and the
books as of a date answer 503, and the standby is not blamed for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import structlog
from aiohttp.test_utils import TestClient

from ledger.http.app import create_app
from ledger.http.context import RUNTIME, Limits
from ledger.standbys import ReadRouter
from ledger.tlog.keys import Signer
from tests.e2e.conftest import ClientFactory, Keys

LIMITS = Limits(acquire_timeout=1.0, post_timeout=10.0, read_timeout=1.0, min_position_wait=1.0)


@pytest.fixture
async def with_standby(
    db_dsn: str, log_signer: Signer, aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> TestClient[Any, Any]:
    """The app reading from a "standby" that is the same database, held in use."""

    async def usable_forever(self: ReadRouter) -> None:
        for standby in self.standbys:
            standby.up = standby.usable = standby.in_recovery = True
        self.measured.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(ReadRouter, "run", usable_forever)
    app = create_app(db_dsn, pool_size=4, limits=LIMITS, signer=log_signer, read_dsns=[db_dsn])
    return await aiohttp_client(app)


@pytest.fixture
async def slow_primary(db_dsn: str) -> AsyncIterator[None]:
    """A lock on the log, which the primary's head is read from, held for the test."""
    blocker = await asyncpg.connect(db_dsn)
    try:
        await blocker.execute("BEGIN; LOCK TABLE event_log IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        await blocker.close()


@pytest.mark.parametrize(
    "path",
    [
        "/v1/statements/G-1?period=2025",
        "/v1/audit/state?business_date=2025-06-30&program_id=P-1",
    ],
)
async def test_a_slow_primary_is_a_503_and_the_standby_stays_in_use(
    with_standby: TestClient[Any, Any], keys: Keys, slow_primary: None, path: str
) -> None:
    [standby] = with_standby.app[RUNTIME].reads.standbys
    with structlog.testing.capture_logs() as logs:
        r = await with_standby.get(path, headers=await keys.role("auditor"))
    assert r.status == 503
    assert (standby.usable, standby.fallbacks) == (True, 0)
    assert [line for line in logs if line["event"] == "standby.read_failed"] == []
