"""A real `ledger serve` on a fresh database, for the client's tests, and keys for it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.service import Service
from ledger.auth.keys import create_key
from ledger.demo import database_keys, run_demo
from tests import pg


@dataclass
class Live:
    """A served ledger: its URL, database and an admin key."""

    url: str
    dsn: str
    admin: str
    service: Service

    async def key(self, *, role: str | None = None, institution: str | None = None) -> str:
        """A new key for a role or an institution."""
        conn = await asyncpg.connect(self.dsn)
        try:
            return (await create_key(conn, role=role, institution_id=institution)).key
        finally:
            await conn.close()


@contextlib.contextmanager
def served(admin_dsn: str, template: str, log: Path, *, demo: bool = False) -> Iterator[Live]:
    """`ledger serve` on a new database cloned from the template (with the demo loaded)."""
    name = asyncio.run(pg.create_database(admin_dsn, template))
    dsn = pg.with_database(admin_dsn, name)
    service = Service(dsn, log)
    try:
        service.start()
        live = Live(service.url, dsn, "", service)
        live.admin = asyncio.run(live.key(role="admin"))
        if demo:
            asyncio.run(run_demo(live.url, live.admin, database_keys(dsn), say=lambda _: None))
        yield live
    finally:
        service.stop()
        asyncio.run(pg.drop_database(admin_dsn, name))


class DroppingProxy:
    """A TCP proxy that, for its first `drops` connections, lets the request through to the
    ledger and then closes the connection without passing the answer back: the post is
    stored, and the client sees only a lost connection."""

    def __init__(self, upstream_port: int, drops: int) -> None:
        self.upstream_port = upstream_port
        self.drops = drops
        self.dropped = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[DroppingProxy]:
        """Listen on a free port while in the block."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        drop = self.dropped < self.drops
        self.dropped += drop

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, cut: bool) -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await src.read(65536):
                    if cut:
                        # The ledger has answered, so the post is stored: lose the answer.
                        writer.transport.abort()
                        return
                    dst.write(chunk)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, drop))
        up_writer.close()
