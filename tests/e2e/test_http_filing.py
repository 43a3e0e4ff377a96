"""Filing a statement (docs/statements.md): reproduced byte for byte, compared field by field."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from ledger.audit.decisions import decide_again
from ledger.audit.export import export_log
from ledger.audit.restore import import_log
from ledger.http.app import create_app
from ledger.http.context import RUNTIME
from ledger.runtime import Runtime
from projections.statements import statement_digest
from tests import pg
from tests.e2e.conftest import FAST, ClientFactory, Keys
from tests.e2e.test_http_statements import HEAD
from tests.factory import envelope
from tests.integration.business.scenario import SECOND_SME, post_dated, seed_dated, year
from tests.unit.rules.world import BANK, GUAR, issued, key

Client = TestClient[Any, Any]
Q2 = {"from": "2025-04-01", "to": "2025-06-30"}


@pytest.fixture
async def books(runtime: Runtime, db_dsn: str, aiohttp_client: ClientFactory) -> Client:
    """The year of business posted, and a client of the service with its read models."""
    await seed_dated(runtime)
    await post_dated(runtime, year())
    return await aiohttp_client(create_app(db_dsn, pool_size=4, limits=STEADY, projections=True))


STEADY = dataclasses.replace(FAST, min_position_wait=5.0)
"""A statement read waits up to 5 s for the read model: well past the 0.3 s a test holds
the runner, however loaded the machine."""


def _filing(institution: str, **period: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "statement.filed",
        "data": {"institution_id": institution, **(period or Q2)},
    }


async def _statement(client: Client, headers: dict[str, str], position: int, **q: str) -> Any:
    params = {**Q2, "min_position": str(position), **q}
    r = await client.get(f"/v1/statements/{GUAR}", params=params, headers=headers)
    assert r.status == 200, await r.text()
    return await r.read()


async def _file(client: Client, keys: Keys) -> int:
    await _statement(client, await keys.of(GUAR), HEAD)  # the read model has the year
    r = await client.post("/v1/events", json=_filing(GUAR), headers=await keys.of(GUAR))
    assert r.status == 201, await r.text()
    return int((await r.json())["position"])


async def _late_issue(runtime: Runtime) -> int:
    """G-3, issued in June, reported only now."""
    late = issued("G-3", sme_id=SECOND_SME, loan_amount=200_000_000)
    (position,) = await post_dated(runtime, [(late, key(GUAR), "2025-06-20T10:00:00+08:00")])
    return position


async def test_the_filed_statement_is_reproduced_byte_for_byte_after_late_events(
    books: Client, keys: Keys, runtime: Runtime
) -> None:
    who = await keys.of(GUAR)
    filed_at = await _file(books, keys)
    first = await _statement(books, who, filed_at, filed="latest")
    late = await _late_issue(runtime)
    again = await _statement(books, who, late, filed="latest")
    assert again == first


@pytest.mark.parametrize("asked", [{"filed": "latest"}, {"compare": "filed"}])
async def test_a_filing_whose_digest_the_log_no_longer_gives_is_invalid_state(
    books: Client, keys: Keys, db_dsn: str, asked: dict[str, str]
) -> None:
    """A stored digest rewritten (the chain recomputed, as a forger would): the statement
    as filed is not answered with figures it was never filed with."""
    from tests.integration.audit import tamper

    who = await keys.of(GUAR)
    filed_at = await _file(books, keys)
    async with tamper.superuser(db_dsn) as su:
        body = await tamper.body_at(su, filed_at)
        found = re.search(rb'"digest":"([0-9a-f]{64})"', body)
        assert found is not None
        await tamper.change_body(su, filed_at, found.group(1), b"0" * 64)
        await tamper.reseal(su, fingerprints=False)
    params = {**Q2, "min_position": str(filed_at), **asked}
    r = await books.get(f"/v1/statements/{GUAR}", params=params, headers=who)
    assert r.status == 409
    problem = await r.json()
    assert problem["type"].endswith("/invalid-state")
    assert (
        f"recomputes to digest {found.group(1).decode()}, not the {'0' * 64}" in problem["detail"]
    )


async def test_the_filed_statement_carries_its_digest_and_the_figures_then(
    books: Client, keys: Keys
) -> None:
    who = await keys.of(GUAR)
    filed_at = await _file(books, keys)
    body = json.loads(await _statement(books, who, filed_at, filed="latest"))
    figures = {k: v for k, v in body.items() if k not in ("filed_at", "digest")}
    assert body["digest"] == statement_digest(figures)
    now = json.loads(await _statement(books, who, filed_at))
    assert figures["programs"] == now["programs"]
    assert figures["position"] == now["position"]


async def test_compare_lists_exactly_the_changed_fields_and_the_late_positions(
    books: Client, keys: Keys, runtime: Runtime
) -> None:
    await _file(books, keys)
    late = await _late_issue(runtime)
    body = json.loads(await _statement(books, await keys.role("auditor"), late, compare="filed"))
    assert body["late_events"] == [late]
    assert {(c["field"], c["filed"], c["now"]) for c in body["changes"]} == {
        ("issued.count", 1, 2),
        ("issued.amount", 500_000_000, 700_000_000),
        ("closing_in_force", 1_400_000_000, 1_600_000_000),
    }
    assert body["filed"]["digest"]
    assert body["now"]["position"] == late


async def test_the_latest_filing_as_known_at_a_moment_is_the_last_filed_by_then(
    books: Client, keys: Keys
) -> None:
    who = await keys.of(GUAR)
    clock = books.app[RUNTIME].ledger.now  # the clock posts are recorded by
    before = clock().isoformat()
    filed_at = await _file(books, keys)
    r = await books.get(
        f"/v1/statements/{GUAR}", params={**Q2, "filed": "latest", "known_at": before}, headers=who
    )
    assert (r.status, (await r.json())["type"]) == (404, "/problems/not-found")
    after = clock().isoformat()
    body = json.loads(await _statement(books, who, filed_at, filed="latest", known_at=after))
    assert body["digest"]


async def test_a_filed_statement_as_csv_carries_when_it_was_filed_and_its_digest(
    books: Client, keys: Keys
) -> None:
    who = await keys.of(GUAR)
    filed_at = await _file(books, keys)
    r = await books.get(
        f"/v1/statements/{GUAR}",
        params={**Q2, "filed": "latest", "min_position": str(filed_at)},
        headers={**who, "Accept": "text/csv"},
    )
    assert r.status == 200, await r.text()
    rows = list(csv.DictReader(io.StringIO(await r.text())))
    filed = json.loads(await _statement(books, who, filed_at, filed="latest"))
    assert {(row["filed_at"], row["digest"]) for row in rows} == {
        (filed["filed_at"], filed["digest"])
    }


async def test_nothing_filed_for_the_period_is_404(books: Client, keys: Keys) -> None:
    r = await books.get(
        f"/v1/statements/{GUAR}", params={**Q2, "filed": "latest"}, headers=await keys.of(GUAR)
    )
    assert (r.status, (await r.json())["type"]) == (404, "/problems/not-found")


async def test_only_the_institution_itself_or_an_admin_may_file(books: Client, keys: Keys) -> None:
    r = await books.post("/v1/events", json=_filing(GUAR), headers=await keys.of(BANK))
    assert (r.status, (await r.json())["type"]) == (403, "/problems/forbidden")
    r = await books.post("/v1/events", json=_filing(GUAR), headers=await keys.role("admin"))
    assert r.status == 201, await r.text()


async def test_filing_for_an_unknown_institution_is_invalid_state(
    books: Client, keys: Keys
) -> None:
    r = await books.post("/v1/events", json=_filing("NOBODY"), headers=await keys.role("admin"))
    assert (r.status, (await r.json())["type"]) == (409, "/problems/invalid-state")


async def test_filing_a_period_that_ends_before_it_starts_is_422(books: Client, keys: Keys) -> None:
    event = _filing(GUAR, **{"from": "2025-07-01", "to": "2025-06-30"})
    r = await books.post("/v1/events", json=event, headers=await keys.of(GUAR))
    body = await r.json()
    assert (r.status, body["errors"][0]["path"]) == (422, "$.data.from")


@contextlib.asynccontextmanager
async def _runner_held(db_dsn: str) -> AsyncIterator[None]:
    """The read-model runner kept from applying anything (its round locks the checkpoints)."""
    conn = await asyncpg.connect(db_dsn)
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM projection_checkpoints FOR UPDATE")
            yield
    finally:
        await conn.close()


async def test_a_filing_counts_every_event_acknowledged_before_it(
    books: Client, keys: Keys, runtime: Runtime, db_dsn: str
) -> None:
    who = await keys.of(GUAR)
    await _statement(books, who, HEAD)
    async with _runner_held(db_dsn):
        late = await _late_issue(runtime)  # acknowledged; not in the read model yet
        filing = asyncio.create_task(books.post("/v1/events", json=_filing(GUAR), headers=who))
        await asyncio.sleep(0.3)
        assert not filing.done()
    r = await filing
    assert r.status == 201, await r.text()
    filed = json.loads(await _statement(books, who, (await r.json())["position"], filed="latest"))
    assert filed["position"] == late
    assert [p["issued"]["count"] for p in filed["programs"]] == [2]


async def test_a_filing_while_the_read_model_stays_behind_is_503_and_stores_nothing(
    books: Client, keys: Keys, runtime: Runtime, db_dsn: str
) -> None:
    who = await keys.of(GUAR)
    async with _runner_held(db_dsn):
        head = await _late_issue(runtime)
        r = await books.post("/v1/events", json=_filing(GUAR), headers=who)
        assert (r.status, (await r.json())["type"]) == (503, "/problems/service-unavailable")
        assert r.headers["Retry-After"] == "1"
    assert await runtime.pool.fetchval("SELECT max(position) FROM event_log") == head


async def test_a_statement_counts_every_event_acknowledged_before_it_was_asked(
    books: Client, keys: Keys, runtime: Runtime, db_dsn: str
) -> None:
    who = await keys.of(GUAR)
    await _statement(books, who, HEAD)
    async with _runner_held(db_dsn):
        late = await _late_issue(runtime)
        asked = asyncio.create_task(books.get(f"/v1/statements/{GUAR}", params=Q2, headers=who))
        await asyncio.sleep(0.3)
        assert not asked.done()
    r = await asked
    assert r.status == 200, await r.text()
    assert (await r.json())["position"] == late


async def test_a_statement_while_the_read_model_stays_behind_is_503(
    books: Client, keys: Keys, runtime: Runtime, db_dsn: str
) -> None:
    who = await keys.of(GUAR)
    async with _runner_held(db_dsn):
        await _late_issue(runtime)
        r = await books.get(f"/v1/statements/{GUAR}", params=Q2, headers=who)
        assert (r.status, (await r.json())["type"]) == (503, "/problems/service-unavailable")


async def test_a_log_filing_one_period_twice_imports_and_decides_again_as_stored(
    books: Client, keys: Keys, runtime: Runtime, pg_admin_dsn: str, pg_template: str
) -> None:
    """Two filings of one period, with a late event between them, fix two statements:
    each is taken as stored, by an import and by `ledger audit decisions` alike."""
    await _file(books, keys)
    await _late_issue(runtime)
    r = await books.post("/v1/events", json=_filing(GUAR), headers=await keys.of(GUAR))
    assert r.status == 201, await r.text()
    exported = io.BytesIO()
    conn = await asyncpg.connect(runtime.dsn)
    try:
        await export_log(conn, exported)
        assert (await decide_again(conn)).same
    finally:
        await conn.close()
    name = await pg.create_database(pg_admin_dsn, pg_template)
    try:
        conn = await asyncpg.connect(pg.with_database(pg_admin_dsn, name))
        try:
            imported = await import_log(conn, io.BytesIO(exported.getvalue()))
        finally:
            await conn.close()
    finally:
        await pg.drop_database(pg_admin_dsn, name)
    assert imported.head_position == int((await r.json())["position"])


async def test_an_institution_registered_and_filed_for_in_one_batch_files_its_empty_statement(
    books: Client, keys: Keys, runtime: Runtime
) -> None:
    """The batch is applied in order: the filing comes after the registration, and fixes
    a statement with nothing in it yet, which a replay of the decisions takes as stored."""
    admin = await keys.role("admin")
    registered = envelope(
        "institution.registered", {"institution_id": "NEW-B1", "name": "New", "kind": "bank"}
    )
    r = await books.post("/v1/events", json=[registered, _filing("NEW-B1")], headers=admin)
    assert r.status == 201, await r.text()
    filed = await books.get(
        "/v1/statements/NEW-B1", params={**Q2, "filed": "latest"}, headers=admin
    )
    assert filed.status == 200, await filed.text()
    assert (await filed.json())["programs"] == []
    conn = await asyncpg.connect(runtime.dsn)
    try:
        assert (await decide_again(conn)).same
    finally:
        await conn.close()
