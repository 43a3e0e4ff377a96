"""Waiting on the sealed log for long polls and streams, through one shared LISTEN connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from ledger.store.reads import FeedReads, LogFollower, LogRow, feed_slots, read_log

log = structlog.get_logger(__name__)

_CANNOT_LISTEN = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class SealedLog:
    """Reads the log after a position, waiting (woken by seal notifications) when empty."""

    def __init__(
        self, pool: asyncpg.Pool, connect: Callable[[], Awaitable[asyncpg.Connection]]
    ) -> None:
        """`connect` opens the LISTEN connection; it is opened on first use and after loss.
        The feeds read through half of `pool` at most (FeedReads)."""
        self._pool = FeedReads(pool, feed_slots(pool.get_max_size()))
        self._connect = connect
        self._listener: asyncpg.Connection | None = None
        self._follower: LogFollower | None = None
        self._lock = asyncio.Lock()
        self.stopping = asyncio.Event()
        """Set when the service begins to stop: long polls answer at once, and open
        streams end (their consumers resume elsewhere), rather than holding the
        stop for up to their whole wait or lifetime."""

    def stop_waiting(self) -> None:
        """End every wait now and refuse new ones: the service is stopping."""
        self.stopping.set()
        follower = self._follower
        if follower is not None:
            follower.wake_all()

    async def _current(self) -> LogFollower | None:
        async with self._lock:
            if self._listener is not None and not self._listener.is_closed():
                return self._follower
            await self._drop()
            listener = None
            try:
                listener = await self._connect()
                follower = LogFollower(self._pool, listener)
                await follower.__aenter__()
            except BaseException as exc:
                if listener is not None:
                    listener.terminate()  # never left for the garbage collector
                if not isinstance(exc, _CANNOT_LISTEN):
                    raise
                # Reading still works without it; waits then just last their full time.
                log.warning("sealed_log.listen_failed", error=str(exc))
                return None
            self._listener, self._follower = listener, follower
            listener.add_termination_listener(self._lost)
            return follower

    def _lost(self, listener: object) -> None:
        """The LISTEN connection ended (the database restarted, or ended its session):
        wake every waiter, so each reads again and listens anew, rather than sleeping out
        its long poll or waiting for the stream's next heartbeat."""
        follower = self._follower
        if listener is not self._listener or follower is None:
            return  # one this object closed itself
        log.warning("sealed_log.listener_lost")
        self._listener, self._follower = None, None  # the next wait listens anew
        follower.wake_all()

    async def _drop(self) -> None:
        listener, self._listener, self._follower = self._listener, None, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()

    async def batch(self, after: int, limit: int, wait: float) -> list[LogRow]:
        """Up to `limit` events after `after`; if none, wait up to `wait` seconds for some."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        follower = await self._current() if wait > 0 and not self.stopping.is_set() else None
        # Checked again after each wait for a listener: stop_waiting wakes those waiting.
        while follower is not None and not self.stopping.is_set():
            rows = await follower.wait_batch(after, limit, deadline - loop.time())
            if rows or loop.time() >= deadline or follower is self._follower:
                return rows
            follower = await self._current()  # woken by a lost listener: listen anew
        rows = await read_log(self._pool, after, limit)
        if rows or wait <= 0 or self.stopping.is_set():
            return rows
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, deadline - loop.time())):
                await self.stopping.wait()
        return await read_log(self._pool, after, limit)

    async def next_seal(self) -> asyncio.Event | None:
        """An Event the next seal sets (shared by every waiter), or None without a listener."""
        follower = await self._current()
        return None if follower is None else follower.next_seal()

    async def read(self, after: int, limit: int) -> list[LogRow]:
        """Up to `limit` events after `after`, without waiting."""
        return await read_log(self._pool, after, limit)

    async def close(self) -> None:
        """Close the LISTEN connection."""
        async with self._lock:
            await self._drop()
