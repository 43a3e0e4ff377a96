"""The time posts are recorded at: the database server's clock, read through this
machine's.

Every instance of a store stamps what it stores with `recorded_at`, which is also the
business time of a post that gives no `occurred_at`, and a stream keeps business
order. Instances stamping with their own clocks, one two seconds ahead, had a post
through the other refused for business order, and recorded times going backwards
along positions. So each instance measures how far the database's clock is from its
own, at start and every half minute, and stamps by the database's: one clock for all,
at no cost to a post (a round trip to read the server's time would be one more a post).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable

import asyncpg
import structlog

from events.business import SHANGHAI

log = structlog.get_logger(__name__)

EVERY_S = 30.0
"""Seconds between two measures of the database's clock."""
SKEW_WARNING_S = 1.0
"""An offset this large is logged: the machines' clocks should be kept in sync (NTP)."""


class DatabaseClock:
    """`now()` by the database server's clock: this machine's, plus the offset measured."""

    def __init__(self, pool: asyncpg.Pool, local: Callable[[], float] = time.time) -> None:
        """Measure against `pool`'s server; `local` is this machine's clock (seconds)."""
        self._pool = pool
        self._local = local
        self.offset = 0.0
        """Seconds the database's clock is ahead of this machine's (0 until measured)."""

    def now(self) -> dt.datetime:
        """The database server's time now, in the business time zone."""
        return dt.datetime.fromtimestamp(self._local() + self.offset, SHANGHAI)

    async def measure(self) -> None:
        """Read the server's clock once, taking the round trip's middle as its moment."""
        before = self._local()
        server: dt.datetime = await self._pool.fetchval("SELECT clock_timestamp()")
        after = self._local()
        offset = server.timestamp() - (before + after) / 2
        if abs(offset) >= SKEW_WARNING_S and abs(self.offset) < SKEW_WARNING_S:
            log.warning("clock.skew", database_ahead_s=round(offset, 3))
        self.offset = offset

    async def run(self) -> None:
        """Measure again every EVERY_S seconds until cancelled; keep the last offset while
        the database cannot be read."""
        while True:
            await asyncio.sleep(EVERY_S)
            try:
                await self.measure()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.info("clock.not_measured", error=str(exc)[:200])
