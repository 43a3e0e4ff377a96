"""Reading GET /v1/events/stream in tests: open it, collect events and comments."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from ledger.client.sse import SseComment, SseEvent, SseParser
from tests.factory import institution

Client = TestClient[Any, Any]


class Opened:
    """An open event stream: its response, and what has been read from it so far."""

    def __init__(self, response: ClientResponse) -> None:
        self.response = response
        self.parser = SseParser()
        self.events: list[SseEvent] = []
        self.comments: list[SseComment] = []

    async def read_until(self, events: int, within: float = 10.0) -> list[SseEvent]:
        """Read until `events` events in all have arrived (TimeoutError after `within` s)."""
        async with asyncio.timeout(within):
            while len(self.events) < events:
                await self._read_some()
        return self.events

    async def read_comments_until(self, comments: int, within: float = 5.0) -> None:
        """Read until `comments` comments in all have arrived (TimeoutError after `within` s)."""
        async with asyncio.timeout(within):
            while len(self.comments) < comments:
                await self._read_some()

    async def read_for(self, seconds: float) -> None:
        """Read whatever comes for `seconds`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    await self._read_some()

    async def _read_some(self) -> None:
        chunk = await self.response.content.readany()
        if not chunk:
            raise EOFError("the stream ended")
        for item in self.parser.feed(chunk):
            if isinstance(item, SseEvent):
                self.events.append(item)
            else:
                self.comments.append(item)


@contextlib.asynccontextmanager
async def opened(
    client: Client, headers: dict[str, str], query: str = "", path: str = "/v1/events/stream"
) -> AsyncIterator[Opened]:
    """The stream opened with these headers and query string; closed on exit."""
    response = await client.get(f"{path}{query}", headers=headers)
    assert response.status == 200, await response.text()
    try:
        yield Opened(response)
    finally:
        response.close()


async def post_banks(
    client: Client, headers: dict[str, str], start: int, count: int, *, long: bool = False
) -> None:
    """Register `count` banks B-<start>... in one atomic post (`long`: 200-character names)."""
    body = [institution(f"B-{n}") for n in range(start, start + count)]
    if long:
        for event in body:
            event["data"]["name"] = event["data"]["name"].ljust(200, "x")
    r = await client.post("/v1/events", json=body, headers=headers)
    assert r.status == 201, await r.text()


async def end_seal_listeners(dsn: str) -> int:
    """End the sessions LISTENing for seal notices (as a database restart would); how many."""
    conn = await asyncpg.connect(dsn)
    try:
        ended: int = await conn.fetchval(
            """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND query = 'LISTEN "ledger_sealed"'"""
        )
    finally:
        await conn.close()
    return ended
