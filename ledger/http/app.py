"""create_app: the one place the HTTP API is wired, for the service and the tests alike."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import structlog
from aiohttp import web

from ledger.config import DEFAULT_READ_MAX_LAG_S
from ledger.http import (
    audit,
    console,
    cosignatures,
    event_stream,
    events,
    expectations,
    export,
    listings,
    log,
    openapi,
    ops,
    readmodels,
    statements,
    streams,
)
from ledger.http.bodies import MAX_BODY
from ledger.http.context import (
    ACCESS_LOG,
    LIMITS,
    LOG_ORIGIN,
    METRICS,
    RUNTIME,
    SEALED_LOG,
    STATE_FOLDS,
    Limits,
)
from ledger.http.follow import SealedLog
from ledger.http.metrics import Metrics
from ledger.http.middleware import name_server, observe, problems
from ledger.http.standby_metrics import StandbyCollector
from ledger.runtime import connect, running
from ledger.store.origin import log_origin
from ledger.tlog.keys import Signer
from projections.runner import ProjectionRunner

# aiohttp's own limit sits above ours, so the handler answers 413 itself, as a problem.
_CLIENT_MAX_SIZE = MAX_BODY + 1


def _projection_runner(dsn: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def run(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(ProjectionRunner(dsn).run(), name="projections")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return run


def create_app(
    dsn: str,
    *,
    pool_size: int = 10,
    seal_timeout: float = 10.0,
    limits: Limits | None = None,
    projections: bool = False,
    signer: Signer | None = None,
    signed_memory: Path | None = None,
    read_dsns: Sequence[str] = (),
    read_max_lag: float = DEFAULT_READ_MAX_LAG_S,
    clock: Callable[[], dt.datetime] | None = None,
) -> web.Application:
    """The ledger's HTTP application on the database at `dsn` (already migrated).

    The pool, sealer and long-poll listener start when the app starts (cleanup_ctx)
    and stop when it stops; with `projections`, so does the runner that keeps the read
    models following the log (the service runs it; most tests need no read models).
    With `signer` (the log's key, ledger.store.identity) the active sealer signs checkpoints,
    remembering the last it signed in the file `signed_memory` when given.
    With `read_dsns`, the read-only routes read from those hot standbys while they lag
    at most `read_max_lag` seconds. Posts are recorded by `clock` (by default the
    database server's, ledger/db_clock.py).
    """
    app = web.Application(middlewares=[observe, problems], client_max_size=_CLIENT_MAX_SIZE)
    app[LIMITS] = limits or Limits()
    app[METRICS] = Metrics()
    app[ACCESS_LOG] = structlog.get_logger("ledger.http").bind()
    app[STATE_FOLDS] = asyncio.Semaphore(1)
    app.on_response_prepare.append(name_server)
    app.on_response_prepare.append(console.guard)

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        async with running(
            dsn,
            pool_size=pool_size,
            seal_timeout=seal_timeout,
            signer=signer,
            signed_memory=signed_memory,
            read_dsns=read_dsns,
            read_max_lag=read_max_lag,
            clock=clock,
        ) as runtime:
            app[RUNTIME] = runtime
            app[LOG_ORIGIN] = await log_origin(runtime.pool)
            sealed = SealedLog(runtime.pool, lambda: connect(dsn))
            app[SEALED_LOG] = sealed
            standbys = StandbyCollector(runtime.reads)
            app[METRICS].registry.register(standbys)
            try:
                yield
            finally:
                app[METRICS].registry.unregister(standbys)
                await sealed.close()

    app.cleanup_ctx.append(runtime_ctx)

    async def end_waits(app: web.Application) -> None:
        # Before the server waits for its handlers: open streams and long polls would
        # hold the stop for up to their lifetime (a stream's is long) or their wait.
        if SEALED_LOG in app:
            app[SEALED_LOG].stop_waiting()

    app.on_shutdown.append(end_waits)
    if projections:
        app.cleanup_ctx.append(_projection_runner(dsn))
    tables: tuple[web.RouteTableDef, ...] = (
        events.routes,
        streams.routes,
        readmodels.routes,
        audit.routes,
        ops.routes,
    )
    tables += (listings.routes, console.routes)
    app.router.add_routes(statements.routes)
    for table in (
        *tables,
        event_stream.routes,
        log.routes,
        cosignatures.routes,
        export.routes,
        openapi.routes,
    ):
        app.router.add_routes(table)
    expectations.install(app)
    return app
