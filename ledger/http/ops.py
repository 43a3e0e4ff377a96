"""Operations endpoints for anyone: /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncpg
import structlog
from aiohttp import web

from ledger.http.context import LIMITS, METRICS, RUNTIME
from ledger.http.db import pooled, read_connection
from ledger.http.metrics import CONTENT_TYPE
from ledger.http.problems import Problem
from ledger.http.readmodels import reflected_position
from ledger.http.schemas import Health, json_response_body
from ledger.store.failures import database_unavailable
from ledger.store.migrate import pending
from ledger.store.reads import head_position

log = structlog.get_logger(__name__)

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """The process is up and answering (says nothing about the database)."""
    return web.Response(
        body=json_response_body(Health(status="ok")), content_type="application/json"
    )


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """The database answers and every shipped migration is applied."""
    async with read_connection(request) as conn:
        missing = await pending(conn)
    if missing:
        raise Problem(
            "service-unavailable",
            f"migrations not applied yet: {missing}",
            extra={"pending_migrations": missing},
            headers={"Retry-After": "5"},
        )
    body = Health(status="ready")
    return web.Response(body=json_response_body(body), content_type="application/json")


async def _lags(pool: asyncpg.Pool, within: float) -> tuple[float, float] | None:
    """How many sealed events the read models, and the latest signed checkpoint, trail
    the log by; None when the database does not answer."""
    try:
        async with pooled(pool, within, within) as conn:
            head = await head_position(conn)
            reflected = await reflected_position(conn)
            signed = await conn.fetchval("SELECT coalesce(max(size), 0) FROM log_checkpoints")
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        return None
    return max(0, head - reflected), max(0, head - int(signed))


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Prometheus text: requests, latency, appends, projection lag, pool use, and the process's
    CPU, memory and collector."""
    pool = request.app[RUNTIME].pool
    gauges: dict[str, tuple[str, float]] = {
        "ledger_db_pool_size": ("Connections open in the pool.", pool.get_size()),
        "ledger_db_pool_in_use": (
            "Pool connections in use.",
            pool.get_size() - pool.get_idle_size(),
        ),
        "ledger_db_pool_max": ("Most connections the pool may open.", pool.get_max_size()),
    }
    lags = await _lags(pool, request.app[LIMITS].acquire_timeout)
    if lags is not None:
        gauges["ledger_projection_lag_events"] = (
            "Sealed events the read models do not reflect yet.",
            lags[0],
        )
        gauges["ledger_log_unsigned_events"] = (
            "Sealed events no signed checkpoint covers yet (signed within a second when "
            "signing works).",
            lags[1],
        )
    sealer = request.app[RUNTIME].sealer
    gauges["ledger_checkpoint_signing_refused"] = (
        "1 while this instance's active sealer refuses to sign (its log says why).",
        1.0 if sealer.active and sealer.refusal is not None else 0.0,
    )
    up = 1.0 if lags is not None else 0.0
    gauges["ledger_database_up"] = ("1 when the database answered this scrape.", up)
    text = request.app[METRICS].render(gauges)
    return web.Response(body=text, headers={"Content-Type": CONTENT_TYPE})


__all__ = ["routes"]
