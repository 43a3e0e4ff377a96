"""GET /v1/audit/export: the log in `ledger audit export` line format, exact stored bytes.

Pages of sealed positions after `after`, as stored: the server checks nothing
here, so an auditor reading it (`ledger audit verify --url`) sees every
rewrite and names its position. A log row whose event row is gone is a line
with `"event":null`.
"""

from __future__ import annotations

from aiohttp import web

from ledger.audit.export import encode_line
from ledger.http.auth import STAFF_ROLES, authenticate, require
from ledger.http.context import LIMITS, RUNTIME
from ledger.http.db import pooled
from ledger.http.params import MAX_POSITION, int_param

routes = web.RouteTableDef()

NDJSON = "application/x-ndjson"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
"""Events per page at most: a page of typical events is a few megabytes."""

_PAGE = """SELECT l.position, l.hash, e.fingerprint, e.body
             FROM event_log l LEFT JOIN events e USING (seq)
            WHERE l.position > $1
            ORDER BY l.position
            LIMIT $2"""


def _line(position: int, hash_: bytes, fingerprint: bytes | None, body: bytes | None) -> bytes:
    if body is None or fingerprint is None:
        return (
            f'{{"position":{position},"hash":"{hash_.hex()}","fingerprint":"","event":null}}\n'
        ).encode()
    return encode_line(position, hash_, fingerprint, body)


@routes.get("/v1/audit/export")
async def export(request: web.Request) -> web.Response:
    """Up to `limit` sealed events after position `after`, one NDJSON line each, in order."""
    actor = await authenticate(request)
    require(actor, STAFF_ROLES, "exporting the log")
    after = int_param(request, "after", 0, 0, MAX_POSITION)
    limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    limits = request.app[LIMITS]
    async with pooled(
        request.app[RUNTIME].pool, limits.acquire_timeout, limits.audit_timeout
    ) as conn:
        rows = await conn.fetch(_PAGE, after, limit)
    body = b"".join(
        _line(
            r["position"],
            bytes(r["hash"]),
            None if r["fingerprint"] is None else bytes(r["fingerprint"]),
            None if r["body"] is None else bytes(r["body"]),
        )
        for r in rows
    )
    return web.Response(body=body, content_type=NDJSON)
