"""GET /v1/smes/{id}/guarantees pages never pass a guarantee stored but not yet shown.

The page's ids come from the decision state, written as a post is stored; the bodies
from the read model, which shows a guarantee moments later. A walk of the pages begun
after a post was acknowledged must still meet that post's guarantee.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.http.app import create_app
from ledger.runtime import Runtime
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.e2e.test_http_filing import STEADY, _late_issue, _runner_held
from tests.integration.business.scenario import SECOND_SME, post_dated, seed_dated, year
from tests.unit.rules.world import GUAR

Client = TestClient[Any, Any]
PATH = f"/v1/smes/{SECOND_SME}/guarantees"


async def _books(
    runtime: Runtime, db_dsn: str, aiohttp_client: ClientFactory, limits: Any
) -> Client:
    await seed_dated(runtime)
    await post_dated(runtime, year())
    return await aiohttp_client(create_app(db_dsn, pool_size=4, limits=limits, projections=True))


@pytest.fixture
async def steady(runtime: Runtime, db_dsn: str, aiohttp_client: ClientFactory) -> Client:
    """The year of business, served with a 5 s wait for the read model."""
    return await _books(runtime, db_dsn, aiohttp_client, STEADY)


@pytest.fixture
async def hasty(runtime: Runtime, db_dsn: str, aiohttp_client: ClientFactory) -> Client:
    """The year of business, served with a 1 s wait for the read model."""
    return await _books(runtime, db_dsn, aiohttp_client, FAST)


async def _shows_g2(client: Client, headers: dict[str, str]) -> None:
    """Wait until the read model shows the year's G-2 (the app's runner starts from 0)."""
    for _ in range(300):
        if (await client.get("/v1/guarantees/G-2", headers=headers)).status == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the read model never showed G-2")


@contextlib.asynccontextmanager
async def _g3_stored_not_shown(
    client: Client, who: dict[str, str], runtime: Runtime, db_dsn: str
) -> AsyncIterator[None]:
    """G-3 acknowledged while the read model shows G-2 but is held from showing G-3."""
    await _shows_g2(client, who)
    async with _runner_held(db_dsn):
        await _late_issue(runtime)
        yield


async def _walk(client: Client, headers: dict[str, str], limit: int) -> list[str]:
    seen: list[str] = []
    after = ""
    while True:
        r = await client.get(PATH, params={"after": after, "limit": str(limit)}, headers=headers)
        assert r.status == 200, await r.text()
        body = await r.json()
        seen += [g["guarantee_id"] for g in body["guarantees"]]
        if body["next_after"] is None:
            return seen
        after = body["next_after"]


async def test_a_walk_waits_for_a_guarantee_stored_before_it_began(
    steady: Client, keys: Keys, runtime: Runtime, db_dsn: str
) -> None:
    who = await keys.of(GUAR)
    async with _g3_stored_not_shown(steady, who, runtime, db_dsn):
        walk = asyncio.create_task(_walk(steady, who, limit=1))
        await asyncio.sleep(0.3)
        assert not walk.done()
    assert await walk == ["G-2", "G-3"]


async def test_a_page_ends_before_a_guarantee_the_read_model_has_not_shown(
    hasty: Client, keys: Keys, runtime: Runtime, db_dsn: str
) -> None:
    who = await keys.of(GUAR)
    async with _g3_stored_not_shown(hasty, who, runtime, db_dsn):
        first = await hasty.get(PATH, params={"limit": "2"}, headers=who)
        body = await first.json()
        assert [g["guarantee_id"] for g in body["guarantees"]] == ["G-2"]
        assert body["next_after"] == "G-2"
        r = await hasty.get(PATH, params={"after": "G-2"}, headers=who)
        assert (r.status, (await r.json())["type"]) == (503, "/problems/service-unavailable")
        assert r.headers["Retry-After"] == "1"
    assert await _walk(hasty, who, limit=2) == ["G-2", "G-3"]
