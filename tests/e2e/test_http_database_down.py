"""With PostgreSQL unreachable the API answers 503 quickly, and recovers when it is back."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
from aiohttp.test_utils import TestClient

from ledger.http.app import create_app
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.factory import institution


class Proxy:
    """A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones."""

    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        socket_dir = parse_qs(parts.query).get("host", [None])[0]
        self._unix = f"{socket_dir}/.s.PGSQL.{parts.port or 5432}" if socket_dir else None
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._dsn = parts
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def dsn(self) -> str:
        """The DSN through the proxy."""
        netloc = f"{self._dsn.username or 'postgres'}@127.0.0.1:{self.port}"
        return urlunsplit(self._dsn._replace(netloc=netloc, query=""))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._unix:
            up_reader, up_writer = await asyncio.open_unix_connection(self._unix)
        else:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def start(self) -> None:
        """Accept connections (on the same port after a stop)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a database going away does."""
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()


@pytest.fixture
async def proxy(db_dsn: str) -> AsyncIterator[Proxy]:
    """A running proxy to this test's database."""
    p = Proxy(db_dsn)
    await p.start()
    yield p
    with contextlib.suppress(Exception):
        await p.stop()


@pytest.fixture
async def proxied(proxy: Proxy, aiohttp_client: ClientFactory) -> TestClient[Any, Any]:
    """The app reaching its database only through the proxy."""
    return await aiohttp_client(create_app(proxy.dsn, pool_size=4, limits=FAST))


async def test_unreachable_database_is_503_quickly_then_recovers(
    proxied: TestClient[Any, Any], proxy: Proxy, keys: Keys
) -> None:
    admin = await keys.role("admin")
    assert (await proxied.post("/v1/events", json=institution("B-1"), headers=admin)).status == 201
    await proxy.stop()
    for method, path in (("POST", "/v1/events"), ("GET", "/v1/events"), ("GET", "/readyz")):
        started = time.monotonic()
        r = await proxied.request(method, path, json=institution("B-2"), headers=admin)
        assert r.status == 503, (path, await r.text())
        assert (await r.json(content_type=None))["type"] == "/problems/service-unavailable"
        assert time.monotonic() - started < 5
    assert (await proxied.get("/healthz")).status == 200
    await proxy.start()
    again = institution("B-3")  # reposted unchanged until it has its receipt
    for _ in range(50):
        r = await proxied.post("/v1/events", json=again, headers=admin)
        if r.status in (200, 201):
            break
        await asyncio.sleep(0.2)
    assert r.status in (200, 201)
