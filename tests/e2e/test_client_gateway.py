"""The client behind a proxy: a gateway's 502, 503 or 504 is waited out like the ledger's own
503, and a consumer stopped during a long poll stops cleanly.

The upstream here is a small aiohttp app standing where a proxy would: it answers
as a proxy does while the ledger restarts, then as the ledger.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from ledger import client as lc
from ledger.client.consumer import Consumer
from tests.e2e.fake_server import serving

_PROXY_PAGE = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"


def _event(position: int) -> dict[str, Any]:
    return {
        "event_id": f"00000000-0000-4000-8000-{position:012d}",
        "type": "institution.registered",
        "occurred_at": "2026-01-05T10:00:00+08:00",
        "data": {"institution_id": f"B-{position}", "name": "Bank", "kind": "bank"},
        "stream_id": f"institution-B-{position}",
        "stream_version": 1,
        "recorded_at": "2026-01-05T10:00:00+08:00",
        "actor": {"role": "admin", "institution_id": None},
        "position": position,
        "hash": "00" * 32,
    }


class Upstream:
    """Answers `failures` gateway errors first, then pages of three events, then waits."""

    def __init__(self, failures: list[int]) -> None:
        self.failures = list(failures)
        self.asked = 0

    async def events(self, request: web.Request) -> web.Response:
        self.asked += 1
        if self.failures:
            return web.Response(
                status=self.failures.pop(0), text=_PROXY_PAGE, content_type="text/html"
            )
        after = int(request.query.get("after", "0"))
        if after >= 3:
            await asyncio.sleep(float(request.query.get("wait", "0")))
            return web.json_response({"events": [], "next_after": after})
        page = [_event(p) for p in range(after + 1, 4)]
        return web.json_response({"events": page, "next_after": 3})


@pytest.fixture
async def upstream(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Upstream, str]]:
    fake = Upstream(getattr(request, "param", []))
    app = web.Application()
    app.router.add_get("/v1/events", fake.events)
    async with serving(app) as url:
        yield fake, url


def _client(url: str) -> lc.LedgerClient:
    return lc.LedgerClient(url, "key", backoff=lc.Backoff(retries=3, first=0.01, most=0.05))


@pytest.mark.parametrize("upstream", [[502, 503, 504]], indirect=True)
async def test_a_read_waits_out_a_gateway_s_502_503_and_504(
    upstream: tuple[Upstream, str],
) -> None:
    fake, url = upstream
    async with _client(url) as client:
        page = await client.events()
    assert [e.position for e in page.events] == [1, 2, 3]
    assert fake.asked == 4


@pytest.mark.parametrize("upstream", [[503] * 6], indirect=True)
async def test_follow_resumes_after_a_gateway_outage_longer_than_the_retries(
    upstream: tuple[Upstream, str],
) -> None:
    fake, url = upstream
    async with _client(url) as client:
        feed = client.follow()
        got = [(await anext(feed)).position for _ in range(3)]
        await feed.aclose()  # type: ignore[attr-defined]
    assert got == [1, 2, 3]
    assert fake.asked == 7


async def test_a_gateway_error_after_the_retries_is_service_unavailable(
    upstream: tuple[Upstream, str],
) -> None:
    fake, url = upstream
    fake.failures = [502] * 4
    async with _client(url) as client:
        with pytest.raises(lc.ServiceUnavailable) as raised:
            await client.events()
    assert raised.value.status == 502
    assert raised.value.problem["type"] == "about:blank"


@pytest.mark.parametrize("upstream", [[200]], indirect=True)
async def test_a_success_that_is_not_the_ledgers_answer_is_unexpected_response(
    upstream: tuple[Upstream, str],
) -> None:
    """A proxy's page answered 200: a LedgerError naming it, not a decoding error."""
    _, url = upstream
    async with _client(url) as client:
        with pytest.raises(lc.UnexpectedResponse) as raised:
            await client.events()
    assert raised.value.status == 200
    assert isinstance(raised.value, lc.LedgerError)


async def test_a_consumer_stopped_during_a_long_poll_returns_its_position(
    upstream: tuple[Upstream, str], db_dsn: str
) -> None:
    _, url = upstream
    applied: list[int] = []

    async def handler(conn: asyncpg.Connection, event: lc.Event) -> None:
        applied.append(event.position)

    pool = await asyncpg.create_pool(db_dsn, min_size=1, max_size=2)
    try:
        async with _client(url) as client:
            consumer = Consumer(client, pool, "books", handler, wait=30.0)
            stop = asyncio.Event()
            running = asyncio.create_task(consumer.run(stop))
            while len(applied) < 3:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)  # now in the long poll after position 3
            stop.set()
            recorded = await asyncio.wait_for(running, 5)
    finally:
        await pool.close()
    assert (recorded, applied) == (3, [1, 2, 3])
