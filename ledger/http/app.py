"""create_app: the one place the HTTP API is wired, for the service and the tests alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ledger.http import events, openapi, ops, readmodels, streams
from ledger.http.context import LIMITS, METRICS, RUNTIME, SEALED_LOG, Limits
from ledger.http.follow import SealedLog
from ledger.http.metrics import Metrics
from ledger.http.middleware import observe, problems
from ledger.runtime import connect, running

# aiohttp's own limit sits above ours, so the handler answers 413 itself, as a problem.
_CLIENT_MAX_SIZE = events.MAX_BODY + 1


def create_app(
    dsn: str,
    *,
    pool_size: int = 10,
    seal_timeout: float = 10.0,
    limits: Limits | None = None,
) -> web.Application:
    """The ledger's HTTP application on the database at `dsn` (already migrated).

    The pool, sealer and long-poll listener start when the app starts (cleanup_ctx)
    and stop when it stops.
    """
    app = web.Application(middlewares=[observe, problems], client_max_size=_CLIENT_MAX_SIZE)
    app[LIMITS] = limits or Limits()
    app[METRICS] = Metrics()

    async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
        async with running(dsn, pool_size=pool_size, seal_timeout=seal_timeout) as runtime:
            app[RUNTIME] = runtime
            sealed = SealedLog(runtime.pool, lambda: connect(dsn))
            app[SEALED_LOG] = sealed
            try:
                yield
            finally:
                await sealed.close()

    app.cleanup_ctx.append(runtime_ctx)
    for table in (events.routes, streams.routes, readmodels.routes, ops.routes, openapi.routes):
        app.router.add_routes(table)
    return app
