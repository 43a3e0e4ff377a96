"""A dict envelope posted without an event_id keeps the one it is given: posted again after
a lost answer, it is the same event, never a second one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from ledger import client as lc
from tests.e2e.fake_server import serving


class LosesEveryAnswer:
    """Reads each post, keeps its event ids, and drops the connection instead of answering."""

    def __init__(self) -> None:
        self.event_ids: list[str] = []

    async def post(self, request: web.Request) -> web.Response:
        body: Any = await request.json()
        for envelope in body if isinstance(body, list) else [body]:
            self.event_ids.append(envelope["event_id"])
        assert request.transport is not None
        request.transport.abort()
        return web.Response(status=500)


@pytest.fixture
async def lossy() -> AsyncIterator[tuple[LosesEveryAnswer, str]]:
    fake = LosesEveryAnswer()
    app = web.Application()
    app.router.add_post("/v1/events", fake.post)
    async with serving(app) as url:
        yield fake, url


async def test_a_dict_posted_again_after_a_lost_answer_carries_the_same_event_id(
    lossy: tuple[LosesEveryAnswer, str],
) -> None:
    fake, url = lossy
    envelope: dict[str, Any] = {
        "type": "loan.repaid",
        "data": {"guarantee_id": "G-1", "amount": 1},
    }
    backoff = lc.Backoff(retries=1, first=0.01, most=0.01)
    async with lc.LedgerClient(url, "key", backoff=backoff) as client:
        for _ in range(2):
            with pytest.raises(lc.ConnectionLost):
                await client.post(envelope)
        with pytest.raises(lc.ConnectionLost):
            await client.post([envelope])
    assert len(fake.event_ids) == 6  # each post tried twice
    assert set(fake.event_ids) == {envelope["event_id"]}
