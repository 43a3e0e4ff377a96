"""HTTP fixtures: the real app on a fresh database, and keys for every role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from ledger.auth.keys import create_key
from ledger.http.app import create_app
from ledger.http.context import Limits
from ledger.tlog.keys import Signer

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]

FAST = Limits(acquire_timeout=1.0, post_timeout=10.0, read_timeout=5.0, min_position_wait=1.0)
"""Short bounds, so tests of the unhappy paths stay fast."""


@pytest.fixture
async def client(
    db_dsn: str, log_signer: Signer, aiohttp_client: ClientFactory
) -> TestClient[Any, Any]:
    """A client of the ledger's app on this test's database, signing checkpoints."""
    return await aiohttp_client(create_app(db_dsn, pool_size=4, limits=FAST, signer=log_signer))


@pytest.fixture
async def kept(
    db_dsn: str, log_signer: Signer, aiohttp_client: ClientFactory
) -> TestClient[Any, Any]:
    """As `client`, with the read-model runner: a statement filing waits for the read
    models to hold the log, so a test posting one (the demo does) needs them kept."""
    app = create_app(db_dsn, pool_size=4, limits=FAST, signer=log_signer, projections=True)
    return await aiohttp_client(app)


class Keys:
    """Creates keys straight in the test database (as `ledger keys create` does)."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._made: dict[tuple[str | None, str | None], str] = {}

    async def new(self, *, role: str | None = None, institution: str | None = None) -> str:
        """A fresh key for a plain role or a registered institution."""
        conn = await asyncpg.connect(self._dsn)
        try:
            return (await create_key(conn, role=role, institution_id=institution)).key
        finally:
            await conn.close()

    async def role(self, role: str) -> dict[str, str]:
        """Authorization headers of a (cached) key with a plain role."""
        return await self._headers(role, None)

    async def of(self, institution: str) -> dict[str, str]:
        """Authorization headers of a (cached) key of a registered institution."""
        return await self._headers(None, institution)

    async def _headers(self, role: str | None, institution: str | None) -> dict[str, str]:
        key = self._made.get((role, institution))
        if key is None:
            key = await self.new(role=role, institution=institution)
            self._made[(role, institution)] = key
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keys(db_dsn: str) -> Keys:
    """Key maker for this test's database."""
    return Keys(db_dsn)
