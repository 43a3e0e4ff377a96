"""A streaming standby for the session, a fresh ledger database per test, an app reading it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from bench.payloads import GUARANTOR_ID, guarantee_issued, setup_events, sme_registered
from ledger.http.app import create_app
from ledger.http.context import RUNTIME, Limits
from ledger.standbys import Standby
from ledger.store.identity import establish
from tests import pg
from tests.e2e.conftest import Keys
from tests.required import cannot_run
from tests.streaming import NoStandby, Pair, streaming_pair

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]

LIMITS = Limits(acquire_timeout=2.0, post_timeout=10.0, read_timeout=5.0, min_position_wait=3.0)


@pytest.fixture(scope="session")
def pair() -> Iterator[Pair]:
    """One primary and its streaming standby for the whole session (a base backup copies
    the whole cluster, so one is made, and torn down at the end)."""
    try:
        with streaming_pair() as made:
            yield made
    except NoStandby as exc:
        cannot_run(f"cannot make a streaming standby on this machine: {exc}")


@pytest.fixture(scope="session")
def template(pair: Pair) -> str:
    """A migrated template database on the private primary."""
    return asyncio.run(pg.create_template(pair.primary_dsn()))


@dataclass
class Ledger:
    """One test's ledger: its database on the primary and on the standby, and an app on both."""

    pair: Pair
    database: str
    client: Client
    keys: Keys

    @property
    def primary_dsn(self) -> str:
        """The test database on the primary."""
        return self.pair.primary_dsn(self.database)

    @property
    def standby_dsn(self) -> str:
        """The test database on the standby."""
        return self.pair.standby_dsn(self.database)

    @property
    def standby(self) -> Standby:
        """The app's view of the standby."""
        [standby] = self.client.app[RUNTIME].reads.standbys
        return standby

    async def in_use(self, within: float = 20.0) -> None:
        """Wait until the app reads from the standby."""
        deadline = time.monotonic() + within
        while not self.standby.usable:
            assert time.monotonic() < deadline, f"standby not in use: {self.standby}"
            await asyncio.sleep(0.05)

    async def out_of_use(self, within: float = 10.0) -> None:
        """Wait until the app no longer reads from the standby."""
        deadline = time.monotonic() + within
        while self.standby.usable:
            assert time.monotonic() < deadline, f"standby still in use: {self.standby}"
            await asyncio.sleep(0.05)

    async def post(self, body: Any, who: str | None = None) -> Any:
        """Post as the admin (or an institution); assert it was stored; return the receipt(s)."""
        headers = await (self.keys.of(who) if who else self.keys.role("admin"))
        r = await self.client.post("/v1/events", json=body, headers=headers)
        assert r.status in (200, 201), await r.text()
        return await r.json()

    async def issue(self, n: int, tag: str = "t") -> int:
        """Register SME n and issue its guarantee G-tag-n; the guarantee's position."""
        await self.post(sme_registered(n), GUARANTOR_ID)
        receipt = await self.post(guarantee_issued(n, tag), GUARANTOR_ID)
        return int(receipt["position"])

    async def on_standby(self, sql: str, *args: Any) -> Any:
        """One query on the standby as the superuser (outside the app)."""
        conn = await asyncpg.connect(self.pair.standby_dsn(self.database))
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def _ledger(
    pair: Pair,
    template: str,
    aiohttp_client: ClientFactory,
    *,
    read_max_lag: float,
    limits: Limits,
    key_file: Path | None = None,
) -> AsyncIterator[Ledger]:
    database = await pg.create_database(pair.primary_dsn(), template)
    try:
        signer = None
        if key_file is not None:  # the log's key, as `ledger serve` establishes it
            conn = await asyncpg.connect(pair.primary_dsn(database))
            try:
                signer = await establish(conn, key_file, None)
            finally:
                await conn.close()
        app = create_app(
            pair.primary_dsn(database),
            pool_size=4,
            limits=limits,
            projections=True,
            read_dsns=[pair.standby_dsn(database)],
            read_max_lag=read_max_lag,
            signer=signer,
        )
        made = Ledger(pair, database, await aiohttp_client(app), Keys(pair.primary_dsn(database)))
        await made.post(setup_events())
        await made.in_use()
        yield made
        await made.client.close()
    finally:
        await pg.drop_database(pair.primary_dsn(), database)


@pytest.fixture
async def ledger(pair: Pair, template: str, aiohttp_client: ClientFactory) -> AsyncIterator[Ledger]:
    """A fresh ledger database, with the program and institutions, and an app that runs
    the read models and reads from the standby once it has replayed the database."""
    async with _ledger(pair, template, aiohttp_client, read_max_lag=2.0, limits=LIMITS) as made:
        yield made


@pytest.fixture
async def signed_ledger(
    pair: Pair, template: str, aiohttp_client: ClientFactory, tmp_path: Path
) -> AsyncIterator[Ledger]:
    """As `ledger`, with the log's key: its sealer signs checkpoints."""
    async with _ledger(
        pair,
        template,
        aiohttp_client,
        read_max_lag=2.0,
        limits=LIMITS,
        key_file=tmp_path / "log-signing.key",
    ) as made:
        yield made


@pytest.fixture
async def lenient_ledger(
    pair: Pair, template: str, aiohttp_client: ClientFactory
) -> AsyncIterator[Ledger]:
    """As `ledger`, but a standby up to 30 s behind stays in use, and min_position waits 1 s."""
    limits = dataclasses.replace(LIMITS, min_position_wait=1.0)
    async with _ledger(pair, template, aiohttp_client, read_max_lag=30.0, limits=limits) as made:
        yield made


def unique_tag() -> str:
    """A tag for guarantee ids no other run uses."""
    return uuid.uuid4().hex[:6]
