"""A downstream consumer with exactly-once effect: its writes and its position, one transaction.

The consumer keeps its own PostgreSQL tables. For each page of the feed, the
helper opens one transaction on the consumer's database, runs the handler for
every event of the page on that connection, and moves the consumer's recorded
position in the same transaction. A crash at any point leaves either the whole
page applied with its position, or none of it: after a restart the helper
resumes after the recorded position, so each event's effect happens once.

asyncpg is needed for this module only; the rest of the client does without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ledger.client.feeds import pages
from ledger.client.types import Event

if TYPE_CHECKING:
    import asyncpg

    from ledger.client.client import LedgerClient

Handler = Callable[["asyncpg.Connection", Event], Awaitable[None]]
"""Applies one event to the consumer's tables, on the connection of the transaction."""

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Held while a copy sets its tables up, one lock per position table.
_SETUP_LOCK = "SELECT pg_advisory_xact_lock(hashtext('ledger.client.consumer'), hashtext($1))"


class _Queries:
    """The helper's statements on its position table (a name checked against _NAME)."""

    def __init__(self, table: str) -> None:
        if not _NAME.fullmatch(table):
            raise ValueError(f"table must be a plain lower-case SQL name, got {table!r}")
        self.create = f"""CREATE TABLE IF NOT EXISTS {table} (
                            consumer   text PRIMARY KEY,
                            position   bigint NOT NULL CHECK (position >= 0),
                            updated_at timestamptz NOT NULL DEFAULT now())"""
        self.add = (
            f"INSERT INTO {table} (consumer, position) VALUES ($1, 0) "  # noqa: S608 - checked
            "ON CONFLICT (consumer) DO NOTHING"
        )
        self.read = f"SELECT position FROM {table} WHERE consumer = $1"  # noqa: S608 - checked
        self.lock = self.read + " FOR UPDATE"
        self.move = (
            f"UPDATE {table} SET position = $2, updated_at = now() "  # noqa: S608 - checked
            "WHERE consumer = $1"
        )


class Consumer:
    """Runs `handler` for every event of the feed, each exactly once in effect."""

    def __init__(
        self,
        client: LedgerClient,
        pool: asyncpg.Pool,
        name: str,
        handler: Handler,
        *,
        table: str = "ledger_consumer_positions",
        page: int = 500,
        wait: float = 30.0,
    ) -> None:
        """`name` identifies this consumer's position in `table` (in the consumer's database)."""
        self._sql = _Queries(table)
        self.client = client
        self.pool = pool
        self.name = name
        self.handler = handler
        self.table = table
        self.page = page
        self.wait = wait

    async def setup(self) -> None:
        """Create the position table if missing, and this consumer's row (at 0) in it.

        Copies started together take turns here too: PostgreSQL's CREATE TABLE IF NOT
        EXISTS run at once by two sessions fails one with a duplicate key.
        """
        async with self.pool.acquire() as proxy, proxy.transaction():
            conn: asyncpg.Connection = proxy  # type: ignore[assignment]
            await conn.execute(_SETUP_LOCK, self.table)
            await conn.execute(self._sql.create)
            await conn.execute(self._sql.add, self.name)

    async def position(self) -> int:
        """The last position whose effect is committed (0 before the first `setup`)."""
        import asyncpg

        try:
            value = await self.pool.fetchval(self._sql.read, self.name)
        except asyncpg.UndefinedTableError:
            return 0
        return int(value or 0)

    async def apply(self, events: list[Event]) -> int:
        """Apply a page in one transaction; return the position now recorded.

        The row lock makes two copies of one consumer (a restart racing the old
        process, two replicas) take turns; events at or below the recorded
        position were applied by the other and are skipped.
        """
        async with self.pool.acquire() as proxy, proxy.transaction():
            conn: asyncpg.Connection = proxy  # type: ignore[assignment]
            recorded = int(await conn.fetchval(self._sql.lock, self.name))
            fresh = [e for e in events if e.position > recorded]
            for event in fresh:
                await self.handler(conn, event)
            if fresh:
                recorded = fresh[-1].position
                await conn.execute(self._sql.move, self.name, recorded)
            return recorded

    async def run(self, stop: asyncio.Event | None = None, *, until: int | None = None) -> int:
        """Follow the feed from the recorded position and apply it, page by page.

        Returns once `stop` is set (after the page in hand) or the position `until`
        is applied; runs forever otherwise. Returns the recorded position.
        """
        await self.setup()
        recorded = await self.position()
        if until is not None and recorded >= until:
            return recorded
        feed = pages(self.client, recorded, page=self.page, wait=self.wait)
        try:
            async for got in _until_stopped(feed, stop):
                recorded = await self.apply(got.events)
                if (stop is not None and stop.is_set()) or (
                    until is not None and recorded >= until
                ):
                    break
        finally:
            await feed.aclose()
        return recorded


async def _until_stopped(feed: Any, stop: asyncio.Event | None) -> Any:
    """The feed's pages, ending as soon as `stop` is set even while a long poll waits."""
    if stop is None:
        async for got in feed:
            yield got
        return
    stopped = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            step = asyncio.ensure_future(anext(feed))
            done, _ = await asyncio.wait({step, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if step not in done:
                # Let the cancelled poll finish before the caller closes the feed: an
                # async generator still running cannot be closed.
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await step
                return
            yield step.result()
    finally:
        stopped.cancel()
