"""Audit routes for auditors and admins: recompute the hash chain."""

from __future__ import annotations

from aiohttp import web

from ledger.audit.verify import verify_chain
from ledger.http.auth import STAFF_ROLES, authenticate, require
from ledger.http.context import LIMITS, RUNTIME
from ledger.http.db import pooled
from ledger.http.params import optional_int
from ledger.http.schemas import json_response_body

routes = web.RouteTableDef()


@routes.get("/v1/audit/verify")
async def verify(request: web.Request) -> web.Response:
    """Recompute the chain through `through` (default the head); name the first bad position."""
    actor = await authenticate(request)
    require(actor, STAFF_ROLES, "verifying the chain")
    through = optional_int(request, "through", 1, 2**62)
    limits = request.app[LIMITS]
    async with pooled(
        request.app[RUNTIME].pool, limits.acquire_timeout, limits.audit_timeout
    ) as conn:
        report = await verify_chain(conn, through=through)
    return web.Response(body=json_response_body(report.to_json()), content_type="application/json")
