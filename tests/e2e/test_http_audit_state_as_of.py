"""GET /v1/audit/state?business_date=...: answered from the as-of read model, as a fold would."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from ledger.audit.state import state_at
from ledger.http.app import create_app
from ledger.http.context import Limits
from ledger.runtime import Runtime
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.integration.business.scenario import SECOND_SME, post_dated, seed_dated, year
from tests.unit.rules.world import BANK, GUAR, SME, issued, key

Client = TestClient[Any, Any]
PATIENT = Limits(acquire_timeout=1.0, post_timeout=10.0, read_timeout=10.0, min_position_wait=8.0)
"""Long enough a wait for a just-started service to bring its read models up to the head."""
IDS = [
    ("guarantee_id", "G-1"),
    ("claim_id", "C-1"),
    ("sme_id", SECOND_SME),
    ("institution_id", GUAR),
    ("institution_id", BANK),
    ("program_id", "national-sme-tech-2024"),
]


@pytest.fixture
async def dated(runtime: Runtime) -> list[dt.datetime]:
    """The year of business posted; the moment its first five events were all recorded."""
    await seed_dated(runtime)
    await post_dated(runtime, year()[:5])
    async with runtime.pool.acquire() as conn:
        first = await conn.fetchval("SELECT max(recorded_at) FROM events")
    await post_dated(runtime, year()[5:])
    return [first]


@pytest.mark.parametrize(("name", "ident"), IDS)
async def test_each_kind_of_id_is_answered_as_the_fold_of_the_events_up_to_that_day(
    runtime: Runtime,
    db_dsn: str,
    aiohttp_client: ClientFactory,
    keys: Keys,
    dated: list[dt.datetime],
    name: str,
    ident: str,
) -> None:
    client = await aiohttp_client(create_app(db_dsn, pool_size=4, limits=PATIENT, projections=True))
    auditor = await keys.role("auditor")
    for day in (dt.date(2025, 6, 30), dt.date(2025, 12, 31), dt.date(2026, 3, 31)):
        for known_at in (None, dated[0]):
            params = {"business_date": day.isoformat(), name: ident}
            if known_at is not None:
                params["known_at"] = known_at.isoformat()
            r = await client.get("/v1/audit/state", params=params, headers=auditor)
            async with runtime.pool.acquire() as conn:
                folded = await state_at(conn, business_date=day, known_at=known_at, **{name: ident})
            if folded is None:
                assert r.status == 404, await r.text()
            else:
                assert r.status == 200, await r.text()
                assert await r.json() == folded, (day, known_at)


async def test_while_the_read_model_trails_the_log_it_is_503_with_retry_after(
    runtime: Runtime, db_dsn: str, aiohttp_client: ClientFactory, keys: Keys
) -> None:
    await seed_dated(runtime)
    await post_dated(runtime, year()[:2])
    # A service that keeps no read models: the as-of one never reaches the head.
    client = await aiohttp_client(create_app(db_dsn, pool_size=4, limits=FAST))
    r = await client.get(
        "/v1/audit/state",
        params={"business_date": "2025-06-30", "guarantee_id": "G-1"},
        headers=await keys.role("auditor"),
    )
    body = await r.json(content_type=None)
    assert (r.status, r.headers["Retry-After"], body["type"]) == (
        503,
        "1",
        "/problems/service-unavailable",
    )
    assert r.content_type == "application/problem+json"


async def test_a_guarantee_dated_before_its_program_is_answered_and_the_program_refused(
    runtime: Runtime, db_dsn: str, aiohttp_client: ClientFactory, keys: Keys
) -> None:
    """A guarantee's own history needs nothing outside its stream; the SME's exposure and
    the program's summary need their registrations, dated later: 409 naming what."""
    await seed_dated(runtime)  # registrations dated 2025-01-02
    await post_dated(runtime, [(issued("G-9"), key(GUAR), "2024-12-01T10:00:00+08:00")])
    client = await aiohttp_client(create_app(db_dsn, pool_size=4, limits=PATIENT, projections=True))
    auditor = await keys.role("auditor")
    day = "2024-12-31"
    answers = {}
    for name, ident in [
        ("guarantee_id", "G-9"),
        ("sme_id", SME),
        ("program_id", "national-sme-tech-2024"),
    ]:
        r = await client.get(
            "/v1/audit/state", params={"business_date": day, name: ident}, headers=auditor
        )
        answers[name] = (r.status, await r.json(content_type=None))
    async with runtime.pool.acquire() as conn:
        folded = await state_at(conn, business_date=dt.date(2024, 12, 31), guarantee_id="G-9")
    assert answers["guarantee_id"] == (200, folded)
    for name, what in [("sme_id", f"SME {SME}"), ("program_id", "program")]:
        status, body = answers[name]
        assert (status, body["type"]) == (409, "/problems/invalid-state")
        assert what in body["detail"]
        assert "choose a later business_date" in body["detail"]
