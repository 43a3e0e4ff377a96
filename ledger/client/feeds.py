"""Following the log from a position, forever: by long polls or by the event stream.

Both reconnect after a lost connection or a 503 (with the client's backoff, then
again and again: a follower waits out an outage) and resume after the last event
they yielded, so every position comes exactly once and in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING

import aiohttp
import msgspec

from ledger.client.errors import ConnectionLost, ServiceUnavailable
from ledger.client.sse import SseEvent, SseParser
from ledger.client.types import Event, EventPage
from ledger.client.wire import error_of

if TYPE_CHECKING:
    from ledger.client.client import LedgerClient

_event = msgspec.json.Decoder(Event)


async def pages(
    client: LedgerClient, after: int = 0, *, page: int = 1000, wait: float = 30.0
) -> AsyncGenerator[EventPage, None]:
    """Non-empty pages of the log after `after`, forever (long polls of up to `wait` s)."""
    failures = 0
    while True:
        try:
            got = await client.events(after, limit=page, wait=wait)
        except (ConnectionLost, ServiceUnavailable):
            # The client has retried already; keep waiting out the outage, without end.
            await asyncio.sleep(client.backoff.delay(failures))
            failures += 1
            continue
        failures = 0
        if got.events:
            after = got.events[-1].position
            yield got


async def follow(
    client: LedgerClient, after: int = 0, *, page: int = 1000, wait: float = 30.0
) -> AsyncIterator[Event]:
    """Every event after `after`, one by one, in position order, forever."""
    async for got in pages(client, after, page=page, wait=wait):
        for event in got.events:
            yield event


async def stream(client: LedgerClient, after: int = 0) -> AsyncIterator[Event]:
    """Every event after `after` from GET /v1/events/stream, reconnecting with Last-Event-ID."""
    failures = 0
    while True:
        try:
            async for event in _one_connection(client, after):
                failures = 0
                after = event.position
                yield event
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError):
            pass
        except ServiceUnavailable:
            pass
        # The server ended the stream (its lifetime), or the connection was lost.
        await asyncio.sleep(client.backoff.delay(failures))
        failures += 1


async def _one_connection(client: LedgerClient, after: int) -> AsyncIterator[Event]:

    headers = {"Last-Event-ID": str(after), "Accept": "text/event-stream"}
    headers.update(client._headers)
    # No total limit (a stream lasts); a read that waits longer than the heartbeats
    # would allow means the connection is gone.
    limit = aiohttp.ClientTimeout(total=None, sock_connect=client.timeout, sock_read=60)
    async with client.session.get(
        client.url + "/v1/events/stream", headers=headers, timeout=limit
    ) as r:
        if r.status != 200:
            raise error_of(r.status, await r.read(), r.content_type, dict(r.headers))
        parser = SseParser()
        async for chunk in r.content.iter_any():
            for item in parser.feed(chunk):
                if isinstance(item, SseEvent):
                    yield _event.decode(item.data)
