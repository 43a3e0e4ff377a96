"""Pooled connections with bounded waits, so a busy or absent database answers 503."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from ledger.http.context import LIMITS, RUNTIME


@contextlib.asynccontextmanager
async def pooled(
    pool: asyncpg.Pool, acquire_within: float, done_within: float
) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection got within `acquire_within` s, used up within `done_within` s.

    Raises TimeoutError (answered 503) when either runs out: a pool exhausted by a
    slow database then sheds requests instead of queueing them without end.
    """
    async with asyncio.timeout(done_within), pool.acquire(timeout=acquire_within) as proxy:
        conn: asyncpg.Connection = proxy  # type: ignore[assignment]
        yield conn


@contextlib.asynccontextmanager
async def read_connection(request: web.Request) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for one read, with this app's limits."""
    limits = request.app[LIMITS]
    pool = request.app[RUNTIME].pool
    async with pooled(pool, limits.acquire_timeout, limits.read_timeout) as conn:
        yield conn
