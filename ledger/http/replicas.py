"""Running a read-only route's reads on a hot standby, with the primary as the fallback.

One rule keeps positions from going backwards within a request: a request's
reads run on one connection, and when a standby cannot answer (down, failed
mid-read, not yet replayed far enough, or the thing asked for not replayed
there yet) the whole read runs again on the primary. A standby only ever
holds a past state of the primary, so moving from a standby to the primary
can only move forwards; a request never moves from the primary to a standby.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiohttp import web

from ledger.http.context import LIMITS, RUNTIME
from ledger.http.db import pooled
from ledger.http.problems import Problem
from ledger.standbys import Standby
from ledger.store.failures import database_unavailable
from ledger.store.reads import LogRow, read_log

T = TypeVar("T")

Work = Callable[[asyncpg.Connection, Standby | None], Awaitable[T]]
"""The reads of one request, on one connection: a standby's, or the primary's (None)."""


class Behind(Exception):
    """The standby has not replayed what this read needs yet: the primary answers it."""


def _give_up_on_standby(exc: BaseException) -> bool:
    # A standby that went away, or cancelled a query in conflict with its replay
    # (SQLSTATE 40001), or did not answer in time, is no reason to fail the read.
    return isinstance(exc, Behind | TimeoutError) or database_unavailable(exc)


async def read_routed(request: web.Request, work: Work[T], *, within: float | None = None) -> T:
    """`work` on a usable standby, or on the primary when none can answer it.

    A 404 from a standby is asked again of the primary: what was just posted may
    not have been replayed there yet, and "not found" must mean it is not in the
    ledger. `within` bounds the work (default: the app's read timeout).
    """
    runtime, limits = request.app[RUNTIME], request.app[LIMITS]
    done_within = limits.read_timeout if within is None else within
    router = runtime.reads
    standby = router.pick()
    if standby is not None:
        try:
            async with pooled(standby.pool, limits.acquire_timeout, done_within) as conn:
                result = await work(conn, standby)
        except Problem as problem:
            if problem.slug != "not-found":
                raise
        except Exception as exc:
            if not _give_up_on_standby(exc):
                raise
            if not isinstance(exc, Behind):
                router.failed(standby, exc)
        else:
            standby.reads += 1
            return result
    async with pooled(runtime.pool, limits.acquire_timeout, done_within) as conn:
        result = await work(conn, None)
    router.primary_reads += 1
    return result


async def log_from_standby(request: web.Request, after: int, limit: int) -> list[LogRow]:
    """Up to `limit` sealed events after `after` as a standby in use has them; [] when
    no standby is in use or it has none yet (the caller then asks the primary).

    The sealed log is a prefix on every standby, so a standby answers exactly
    what the primary would for the positions it has; the primary can only have more.
    """
    if not request.app[RUNTIME].reads.standbys:
        return []

    async def work(conn: asyncpg.Connection, standby: Standby | None) -> list[LogRow]:
        return [] if standby is None else await read_log(conn, after, limit)

    return await read_routed(request, work)
