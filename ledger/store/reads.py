"""Reading the sealed log: by position for followers, by stream for parties."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg

from ledger.aio import wait_event
from ledger.store.sealer import SEALED_CHANNEL


@dataclass(frozen=True)
class LogRow:
    """One sealed event: its position, hash link and the exact stored bytes."""

    position: int
    hash: bytes
    body: bytes


_LOG = """SELECT l.position, l.hash, e.body
            FROM event_log l JOIN events e USING (seq)
           WHERE l.position > $1
           ORDER BY l.position
           LIMIT $2"""


class Fetches(Protocol):
    """What reads the log: a connection, a pool, or a pool shared out (FeedReads)."""

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """The rows of `query`."""
        ...


class FeedReads:
    """The pool as feeds (event streams, long polls) read it: at most `slots` of its
    connections at once. However many consumers follow the log, and from however far
    back, the rest of the pool is left to posts and reads, which would otherwise wait
    for a connection and be refused (503) once their wait ran out."""

    def __init__(self, pool: asyncpg.Pool, slots: int) -> None:
        self._pool = pool
        self._slots = asyncio.Semaphore(slots)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        """The rows of `query`, once one of the feeds' slots is free."""
        async with self._slots:
            return await self._pool.fetch(query, *args)


def feed_slots(pool_size: int) -> int:
    """How many of a pool's connections the feeds may use at once: half, at least one."""
    return max(1, pool_size // 2)


def _rows(records: list[asyncpg.Record]) -> list[LogRow]:
    return [LogRow(r["position"], bytes(r["hash"]), bytes(r["body"])) for r in records]


async def read_log(conn: Fetches, after: int, limit: int) -> list[LogRow]:
    """Up to `limit` sealed events after position `after`, in position order."""
    return _rows(await conn.fetch(_LOG, after, limit))


async def read_stream(
    conn: asyncpg.Connection | asyncpg.Pool, stream_id: str, from_version: int = 1
) -> list[LogRow]:
    """A stream's sealed events from `from_version` on, in version order."""
    return _rows(
        await conn.fetch(
            """SELECT l.position, l.hash, e.body
                 FROM events e JOIN event_log l USING (seq)
                WHERE e.stream_id = $1 AND e.stream_version >= $2
                ORDER BY e.stream_version""",
            stream_id,
            from_version,
        )
    )


async def sealed_stream_version(
    conn: asyncpg.Connection | asyncpg.Pool, stream_id: str
) -> int | None:
    """The version of the stream's last sealed event, or None when none is sealed.

    Not the streams table's version, which counts events committed but not yet sealed:
    their posts have not been answered, and they have no position to read them by.
    A stream's events are sealed in version order (each append waits for the stream's
    lock, so a later version commits later), so the sealed ones are versions 1 to this.
    """
    value = await conn.fetchval(
        """SELECT e.stream_version FROM events e JOIN event_log l USING (seq)
            WHERE e.stream_id = $1
            ORDER BY e.stream_version DESC LIMIT 1""",
        stream_id,
    )
    return None if value is None else int(value)


async def head_position(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """The last sealed position (0 for an empty ledger)."""
    return int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM event_log"))


class LogFollower:
    """Follows the sealed log from a position, waking on seal notifications."""

    def __init__(self, pool: Fetches, listener: asyncpg.Connection) -> None:
        self._pool = pool
        self._listener = listener
        # One Event per generation, replaced when set: every waiter that took the
        # current one before reading is woken by the next seal. A single Event cleared
        # by each waiter lost the wake-up of a waiter that had read just before another
        # one cleared it, and left it waiting out its whole long poll.
        self._sealed = asyncio.Event()

    async def __aenter__(self) -> LogFollower:
        await self._listener.add_listener(SEALED_CHANNEL, self._notify)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        with contextlib.suppress(Exception):
            await self._listener.remove_listener(SEALED_CHANNEL, self._notify)

    def _notify(self, *_args: object) -> None:
        self.wake_all()

    def wake_all(self) -> None:
        """Wake every waiter, as a seal notification does."""
        sealed, self._sealed = self._sealed, asyncio.Event()
        sealed.set()

    def next_seal(self) -> asyncio.Event:
        """An Event set by the next seal notification; take it before reading, then wait."""
        return self._sealed

    async def wait_batch(self, after: int, limit: int, within: float) -> list[LogRow]:
        """Events after `after`; if none yet, wait up to `within` seconds for some."""
        sealed = self._sealed
        rows = await read_log(self._pool, after, limit)
        if rows or within <= 0:
            return rows
        await wait_event(sealed, within)
        return await read_log(self._pool, after, limit)

    async def follow(self, after: int, limit: int = 1000) -> AsyncIterator[list[LogRow]]:
        """Yield batches forever, in position order, never skipping one."""
        while True:
            rows = await self.wait_batch(after, limit, 1.0)
            if rows:
                after = rows[-1].position
                yield rows
