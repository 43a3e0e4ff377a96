"""The thinnest HTTP service in front of the raw INSERT: `python -m bench.passthrough DSN PORT`.

A reference point between the raw INSERT and the ledger. It serves POST
/v1/events on aiohttp and uvloop like the ledger, and stores each post with
the raw baseline's own statement (one INSERT of one row, or of a batch's rows)
into the raw table, then answers 201 with the event ids. It checks no key and
no rule, keeps no stream versions, hash chain or read models, and logs nothing.
Measured with the same load generator as the ledger, its rate is what HTTP in
front of a single INSERT leaves of the raw rate on this machine: the most any
HTTP service storing each post durably could reach here.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import asyncpg
import msgspec
from aiohttp import web

from bench.baseline import INSERT, INSERT_MANY, TABLE, stream_of
from ledger import aio

READY = "/ready"
"""Answers 200 once the pool is open."""


class _Envelope(msgspec.Struct):
    event_id: str
    type: str
    data: dict[str, Any]


_one = msgspec.json.Decoder(_Envelope)
_many = msgspec.json.Decoder(list[msgspec.Raw])
_encode = msgspec.json.Encoder().encode
POOL = web.AppKey("pool", asyncpg.Pool)


def _row(raw: bytes) -> tuple[str, str, str, bytes]:
    """The raw baseline's columns of one envelope: (event_id, stream_id, type, body)."""
    envelope = _one.decode(raw)
    return envelope.event_id, stream_of(envelope.data), envelope.type, raw


async def _post(request: web.Request) -> web.Response:
    body = await request.read()
    pool = request.app[POOL]
    try:
        if body.lstrip()[:1] == b"[":
            rows = [_row(bytes(raw)) for raw in _many.decode(body)]
            await pool.execute(INSERT_MANY, *(list(c) for c in zip(*rows, strict=True)))
            answer: Any = [{"event_id": row[0]} for row in rows]
        else:
            row = _row(body)
            await pool.execute(INSERT, *row)
            answer = {"event_id": row[0]}
    except (msgspec.DecodeError, asyncpg.PostgresError) as exc:
        return web.Response(status=422, text=str(exc)[:200])
    return web.Response(status=201, body=_encode(answer), content_type="application/json")


async def _ready(_request: web.Request) -> web.Response:
    return web.Response(text="ready")


async def serve(dsn: str, port: int, pool_size: int = 32) -> None:
    """Serve on 127.0.0.1:`port` until SIGTERM or SIGINT."""
    pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)
    try:
        await pool.execute(TABLE)
        app = web.Application(client_max_size=1024 * 1024)
        app[POOL] = pool
        app.router.add_post("/v1/events", _post)
        app.router.add_get(READY, _ready)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", port).start()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
        finally:
            await runner.cleanup()
    finally:
        await pool.close()


def main() -> None:
    """Entry point: DSN and port as arguments."""
    aio.run(serve(sys.argv[1], int(sys.argv[2])))


if __name__ == "__main__":
    main()
