"""Reads "as known at" a moment count a post recorded by then but still being stored.

A post is recorded once its append holds the append lock, and sealed only after it
commits. Asked while such a post is under way, a statement or the books of a day as
known at a later moment must wait for it, or they would count it only when asked again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from ledger.http.app import create_app
from ledger.runtime import Runtime
from ledger.store.recorded_by import CLOCK_MARGIN
from tests.e2e.conftest import ClientFactory, Keys
from tests.e2e.test_http_filing import Q2, STEADY, _late_issue, books
from tests.integration.business.scenario import post_dated, seed_dated, year
from tests.unit.rules.world import GUAR

Client = TestClient[Any, Any]
__all__ = ["books"]


async def _asked_while_a_post_is_stored(
    client: Client, runtime: Runtime, db_dsn: str, path: str, params: dict[str, str], who: Any
) -> tuple[int, Any, Any]:
    """Ask `path` as known at a moment after a post was recorded and before it committed;
    the post's position, the answer then, and the answer asked again afterwards."""
    blocker = await asyncpg.connect(db_dsn)
    try:
        held = blocker.transaction()
        await held.start()
        # The post's append waits to insert its event: recorded, not yet committed.
        await blocker.execute("LOCK TABLE events IN SHARE MODE")
        late = asyncio.create_task(_late_issue(runtime))
        await asyncio.sleep(0.3)
        assert not late.done()
        moment: dt.datetime = await blocker.fetchval("SELECT clock_timestamp()")
        query = {**params, "known_at": moment.isoformat()}
        asked = asyncio.create_task(client.get(path, params=query, headers=who))
        await asyncio.sleep(0.5)
        await held.rollback()
    finally:
        await blocker.close()
    position = await late
    first = await asked
    assert first.status == 200, await first.text()
    again = await client.get(path, params=query, headers=who)
    assert again.status == 200, await again.text()
    return position, await first.json(), await again.json()


async def test_a_statement_as_known_at_a_moment_counts_a_post_recorded_by_then(
    books: Client, keys: Keys, runtime: Runtime, db_dsn: str
) -> None:
    who = await keys.of(GUAR)
    position, first, again = await _asked_while_a_post_is_stored(
        books, runtime, db_dsn, f"/v1/statements/{GUAR}", Q2, who
    )
    assert first == again
    assert first["position"] >= position
    assert [p["issued"]["count"] for p in first["programs"]] == [2]


async def test_the_books_of_a_day_as_known_at_a_moment_count_a_post_recorded_by_then(
    books: Client, keys: Keys, runtime: Runtime, db_dsn: str
) -> None:
    who = await keys.role("auditor")
    params = {"business_date": "2025-06-30", "guarantee_id": "G-3"}
    _, first, again = await _asked_while_a_post_is_stored(
        books, runtime, db_dsn, "/v1/audit/state", params, who
    )
    assert first == again
    assert first["guarantee_id"] == "G-3"


async def test_known_at_is_in_the_future_by_the_clock_posts_are_recorded_by(
    db_dsn: str, keys: Keys, aiohttp_client: ClientFactory
) -> None:
    """The machine's clock may run ahead of the database's, which the ledger stamps by."""
    behind = dt.timedelta(minutes=1)
    app = create_app(db_dsn, clock=lambda: dt.datetime.now(dt.UTC) - behind)
    client = await aiohttp_client(app)
    moment = (dt.datetime.now(dt.UTC) - behind / 2).isoformat()
    who = await keys.role("auditor")
    for path, params in (
        ("/v1/audit/state", {"business_date": "2025-06-30", "guarantee_id": "G-1"}),
        (f"/v1/statements/{GUAR}", Q2),
    ):
        r = await client.get(path, params={**params, "known_at": moment}, headers=who)
        body = await r.json()
        assert (r.status, body["type"]) == (422, "/problems/validation-error"), body
        assert "in the future" in body["detail"]


async def test_known_at_a_little_ahead_of_the_clock_posts_are_recorded_by_is_answered(
    runtime: Runtime, db_dsn: str, keys: Keys, aiohttp_client: ClientFactory
) -> None:
    """A client's "now" may run ahead of the database's by less than the clocks' margin:
    the read waits for that moment to pass, and answers."""
    await seed_dated(runtime)
    await post_dated(runtime, year())
    behind = CLOCK_MARGIN / 2
    app = create_app(
        db_dsn, limits=STEADY, projections=True, clock=lambda: dt.datetime.now(dt.UTC) - behind
    )
    client = await aiohttp_client(app)
    moment = dt.datetime.now(dt.UTC)
    r = await client.get(
        f"/v1/statements/{GUAR}",
        params={**Q2, "known_at": moment.isoformat()},
        headers=await keys.of(GUAR),
    )
    assert r.status == 200, await r.text()
    assert dt.datetime.fromisoformat((await r.json())["known_at"]) == moment
