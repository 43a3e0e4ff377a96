"""GET /v1/streams/{stream_id}: one stream's events, for auditors, admins and its parties."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from events.stored import read_log_entry
from ledger.http.access import check_stream_access, known_shape, not_found
from ledger.http.auth import authenticate
from ledger.http.params import int_param
from ledger.http.replicas import read_routed
from ledger.http.schemas import StreamPage, json_response_body
from ledger.standbys import Standby
from ledger.store.reads import LogRow, read_stream, sealed_stream_version

routes = web.RouteTableDef()


@routes.get("/v1/streams/{stream_id}")
async def get_stream(request: web.Request) -> web.Response:
    """The stream's events from `from_version` (default 1) in version order."""
    actor = await authenticate(request)
    stream_id = request.match_info["stream_id"]
    known_shape(stream_id, stream=True)
    from_version = int_param(request, "from_version", 1, 1, 2**31 - 1)

    async def work(conn: asyncpg.Connection, _standby: Standby | None) -> tuple[int, list[LogRow]]:
        await check_stream_access(conn, actor, stream_id)
        # One snapshot for both reads: the version is that of the last event a reader
        # can be given, never one sealed between the two reads or not sealed at all.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            version = await sealed_stream_version(conn, stream_id)
            if version is None:
                raise not_found(f"stream {stream_id}")
            return version, await read_stream(conn, stream_id, from_version)

    version, rows = await read_routed(request, work)
    page = StreamPage(
        stream_id=stream_id,
        version=version,
        events=[read_log_entry(r.body, r.position, r.hash.hex()) for r in rows],
    )
    return web.Response(body=json_response_body(page), content_type="application/json")
